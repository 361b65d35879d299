select to_timestamp('2011-12-18 23:38:15.123456','YYYY-MM-DD HH24:MI:SS.US')
