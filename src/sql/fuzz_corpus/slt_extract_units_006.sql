SELECT extract(hour FROM date '2020-01-01')
