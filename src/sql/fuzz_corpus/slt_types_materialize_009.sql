SELECT get_byte('\x1234567890'::bytea, 4), get_bit('\x1234567890'::bytea, 30), bit_count('\xF0FF'::bytea), get_byte('\x1234567890'::bytea, 0), get_bit('\xF00a'::bytea, 3)
