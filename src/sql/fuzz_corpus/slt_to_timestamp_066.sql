select to_timestamp('20201','YYYYMM')
