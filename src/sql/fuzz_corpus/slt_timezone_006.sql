SELECT timezone('UTC+3', timestamptz '2020-01-01 12:00+00')
