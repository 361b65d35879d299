SELECT '1969-12-31 23:59:59.5'::timestamp::timestamptz(0)
