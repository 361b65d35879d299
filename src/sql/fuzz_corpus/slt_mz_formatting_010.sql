SELECT 'abc'::bytea, '\xff00'::bytea
