select to_timestamp('2011-12-18 11:38 P.M.','YYYY-MM-DD HH12:MI P.M.')
