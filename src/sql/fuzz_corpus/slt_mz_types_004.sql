SELECT 7::numeric(39,3), -7::numeric(39,3), 0::numeric(39,3)
