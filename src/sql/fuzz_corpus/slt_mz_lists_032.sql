SELECT (list_append(NULL::INT LIST, NULL))::text
