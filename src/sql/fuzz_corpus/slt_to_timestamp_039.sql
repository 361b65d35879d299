select to_timestamp('  20050302','YYYYMMDD')
