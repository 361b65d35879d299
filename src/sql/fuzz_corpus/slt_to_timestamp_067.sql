select to_timestamp('123','YYYYMM')
