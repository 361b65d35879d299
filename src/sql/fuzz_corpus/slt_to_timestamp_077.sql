select to_timestamp('2020-01-02 xx','YYYY-MM-DD')
