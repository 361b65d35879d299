select to_timestamp('2020 xyz','YYYY MON')
