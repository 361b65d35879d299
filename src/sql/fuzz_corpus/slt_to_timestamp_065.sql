select to_timestamp('2020-1-2','YYYY-MM-DD')
