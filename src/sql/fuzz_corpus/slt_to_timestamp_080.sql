select to_timestamp('2020','')
