select to_date('44-02-01 BC','YYYY-MM-DD BC')
