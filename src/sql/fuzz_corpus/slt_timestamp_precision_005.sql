SELECT 'infinity'::timestamp::timestamptz(2)
