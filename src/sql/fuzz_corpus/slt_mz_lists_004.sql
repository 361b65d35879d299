SELECT (LIST[] :: INT LIST)::text
