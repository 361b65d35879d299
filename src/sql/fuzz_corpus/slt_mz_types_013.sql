SELECT '3.40282347E+38'::float8::numeric, '-3.40282347E+38'::float8::numeric
