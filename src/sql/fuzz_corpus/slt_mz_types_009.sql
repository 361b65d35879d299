SELECT get_byte(v, 0), get_byte(v, 1), get_byte(v, 2), get_byte(v, 3), get_byte(v, 4), get_byte(v, NULL) FROM (VALUES ('\x1234567890'::bytea)) AS t(v)
