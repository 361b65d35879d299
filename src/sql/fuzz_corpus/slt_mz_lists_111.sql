SELECT list_length_max(NULL::INT LIST, 1)
