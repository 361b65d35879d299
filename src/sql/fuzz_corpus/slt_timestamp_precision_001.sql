SELECT '1970-01-01T00:00:00.666666666'::timestamp::timestamptz(3)
