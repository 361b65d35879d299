select to_timestamp('2005 03 02','YYYYMMDD')
