SELECT to_char(interval '-1 year 2 mons 3 days 04:05:06.7', 'YYYY MM DD HH24 HH MI SS US DDD WW RM')
