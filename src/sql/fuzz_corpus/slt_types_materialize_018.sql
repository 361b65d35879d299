SELECT get_byte(NULL, 0)
