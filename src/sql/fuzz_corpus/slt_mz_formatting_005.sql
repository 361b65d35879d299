SELECT 0.1::float8 + 0.2::float8, '2e40'::float8, 1e-7::float8, 1.2::float4, '-Infinity'::float8
