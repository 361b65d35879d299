SELECT date_trunc('day', timestamptz '2020-07-01 02:00+00', 'America/New_York')
