select to_timestamp('19971116','YYYYMMDD')
