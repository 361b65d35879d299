select to_timestamp('05527','IYIWID')
