select to_timestamp('2016-02-29','YYYY-MM-DD')
