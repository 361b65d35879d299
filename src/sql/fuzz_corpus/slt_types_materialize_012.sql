SELECT get_byte('\x'::bytea, 0)
