SELECT extract(week FROM interval '1 day')
