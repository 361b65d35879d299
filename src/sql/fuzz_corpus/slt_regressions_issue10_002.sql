SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'i10_ivt'::regclass AND attnum > 0 ORDER BY attnum
