select to_timestamp('20','YYYY-MM-DD')
