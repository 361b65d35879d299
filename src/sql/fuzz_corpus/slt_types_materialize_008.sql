SELECT jsonb_build_object('a', 'x'::char(3), 'b', ARRAY[1,2], 'c', jsonb_build_array(true, 'y'))
