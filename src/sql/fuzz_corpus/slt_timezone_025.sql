SELECT date_trunc('week', timestamptz '2020-11-03 02:00+00', 'America/New_York')
