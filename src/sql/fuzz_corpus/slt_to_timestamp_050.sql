select to_timestamp('2000 -10','YYYY TZH')
