select to_timestamp('2016-13-10','YYYY-MM-DD')
