SELECT '2024-02-29 +00'::date, '0044-03-15 BC +00'::date, '2024-02-29 +05'::timestamptz
