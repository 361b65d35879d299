SELECT constant_time_eq('\x1234'::bytea, '\x1234'::bytea), constant_time_eq('\x1234'::bytea, '\x9999'::bytea), constant_time_eq('ab'::text, 'abc'::text), constant_time_eq(NULL::text, 'x')
