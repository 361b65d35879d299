select to_timestamp('2020 05','YYYY TZ')
