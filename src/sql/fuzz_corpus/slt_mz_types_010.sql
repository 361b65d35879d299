SELECT bit_count('\xF0FF'::bytea);
