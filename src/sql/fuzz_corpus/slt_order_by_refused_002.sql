SELECT j FROM (VALUES ('10'::jsonb), ('9'::jsonb)) t(j) ORDER BY 1
