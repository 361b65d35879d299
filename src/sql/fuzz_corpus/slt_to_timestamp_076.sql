select to_timestamp('  2020-01-02','YYYY-MM-DD')
