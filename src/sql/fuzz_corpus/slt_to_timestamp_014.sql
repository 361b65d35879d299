select to_timestamp('2011-12-18 23:38:15.12','YYYY-MM-DD HH24:MI:SS.MS')
