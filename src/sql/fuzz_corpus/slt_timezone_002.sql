SELECT timestamp '2020-03-08 02:30' AT TIME ZONE 'America/New_York'
