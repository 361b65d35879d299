SELECT make_timestamptz(2020, 7, 1, 12, 0, 0, 'America/New_York')
