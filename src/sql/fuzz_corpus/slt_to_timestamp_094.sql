select to_timestamp('2000-01-01 00:00:00.1234567','YYYY-MM-DD HH24:MI:SS.US')
