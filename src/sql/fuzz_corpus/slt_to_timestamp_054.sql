select to_timestamp('2016-02-30','YYYY-MM-DD')
