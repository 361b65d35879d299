SELECT get_bit('\xF00a'::bytea, 16)
