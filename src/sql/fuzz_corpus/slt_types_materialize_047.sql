SELECT '1970-01-01T00:00:00.666666666'::timestamp::timestamptz(3), '1970-01-01T00:00:00.666666666'::timestamptz::timestamp(3), '2020-01-01 10:00:00.55'::timestamptz::timestamp(0)
