select to_timestamp('2024-03-21 12:09:23','YYYY-MM-DD HH24:MI:SS')
