SELECT list_length_max(LIST []::INT LIST, 1)
