select to_timestamp('2019 06 19 2','YYYY MM DD IW')
