SELECT timezone(interval '-3 hours', timestamp '2020-07-01 12:00')
