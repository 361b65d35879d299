SELECT date_trunc('month', timestamptz '2020-03-08 12:00+00', 'America/New_York')
