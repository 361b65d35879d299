select to_timestamp('1997-11-16 Sunday','YYYY-MM-DD Day')
