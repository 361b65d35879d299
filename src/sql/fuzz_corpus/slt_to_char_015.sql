SELECT to_char(interval '1 year 2 months 3 days 04:05:06.789', 'YYYY MM DD HH24 HH MI SS MS US DDD WW Q CC J RM|')
