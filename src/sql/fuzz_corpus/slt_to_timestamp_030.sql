select to_timestamp('2005426','YYYYWWD')
