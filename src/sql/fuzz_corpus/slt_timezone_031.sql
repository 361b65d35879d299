SELECT '2020-07-01 12:00 Europe/Paris'::timestamp
