SELECT list_length(LIST []::INT LIST)
