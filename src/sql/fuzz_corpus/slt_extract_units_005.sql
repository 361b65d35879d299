SELECT extract(julian FROM interval '1 day')
