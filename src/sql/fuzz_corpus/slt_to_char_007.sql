SELECT to_char(ts, 'YYYYTH YYYYth DDth DDDTH Jth HH24th MMth FMDDth') FROM tc
