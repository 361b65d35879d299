select to_timestamp('5527','IIWID')
