SELECT make_timestamptz(2020, 3, 8, 2, 30, 0, 'America/New_York')
