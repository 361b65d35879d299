SELECT '1969-12-31 23:59:59.55'::timestamptz::timestamp(1)
