SELECT 'a'::string, pg_typeof('a'::string), 1.5::double, pg_typeof(1::double)
