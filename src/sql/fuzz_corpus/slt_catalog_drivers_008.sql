SELECT '1 2 3'::int2vector, ('1 2 3'::int2vector)[1]
