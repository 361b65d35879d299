select to_timestamp('2005 5','YYYY W')
