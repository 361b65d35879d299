select to_timestamp('44-02-01 11:12:13 BC','YYYY-MM-DD HH24:MI:SS BC')
