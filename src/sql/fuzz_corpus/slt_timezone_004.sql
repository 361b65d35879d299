SELECT timestamp '2020-11-01 00:59:59' AT TIME ZONE 'America/New_York'
