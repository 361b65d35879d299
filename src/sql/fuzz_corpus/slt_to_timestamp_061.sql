select to_timestamp('0','HH')
