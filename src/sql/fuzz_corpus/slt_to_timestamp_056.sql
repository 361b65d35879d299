select to_timestamp('2015-02-29','YYYY-MM-DD')
