select to_timestamp('0000-02-01','YYYY-MM-DD')
