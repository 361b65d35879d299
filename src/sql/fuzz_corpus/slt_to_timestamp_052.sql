select to_timestamp('2016-06-13 15:50:60','YYYY-MM-DD HH24:MI:SS')
