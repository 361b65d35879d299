SELECT timestamp '2020-11-01 01:30' AT TIME ZONE 'America/New_York'
