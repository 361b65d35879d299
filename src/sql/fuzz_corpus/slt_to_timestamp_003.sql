select to_timestamp('2000JUN','YYYYMON')
