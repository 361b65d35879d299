SELECT count(*) FROM u WHERE a = 11
