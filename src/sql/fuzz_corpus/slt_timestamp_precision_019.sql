SELECT '2020-01-01 9::60'::timestamp
