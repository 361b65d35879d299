SELECT jsonb_build_array(), jsonb_build_array(1, 2, NULL), jsonb_build_array(NULL), jsonb_build_array('\x0001'::BYTEA, 'a'::char(2), 1.50, 'x')
