select to_timestamp('','YYYY')
