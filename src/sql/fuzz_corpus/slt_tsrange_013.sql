SELECT 'foo'::tsrange
