select to_timestamp('1','HH')
