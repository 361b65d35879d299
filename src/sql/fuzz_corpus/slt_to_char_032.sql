SELECT '[' || to_char(123::int4, '9.99EEEE') || '|' || to_char(-123::int8, '9EEEE') || '|' || to_char(123.456::float8, 'x9.9EEEEy') || '|' || to_char(0.5::float4, '9.99EEEE') || ']'
