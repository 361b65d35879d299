SELECT INTERVAL '2147483647 days 2562047788 hours 54.775807 seconds', INTERVAL '-178956970 years -8 months', timestamptz '2020-07-01 12:00 Europe/Paris'
