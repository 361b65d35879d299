SELECT set_byte('\x1234'::bytea, 1, 255), set_bit('\x00'::bytea, 3, 1)
