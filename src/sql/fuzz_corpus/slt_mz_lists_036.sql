SELECT (list_cat(NULL::INT LIST, NULL))::text
