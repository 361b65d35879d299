SELECT timezone(interval '5 hours 30 minutes', timestamptz '2020-07-01 12:00+00')
