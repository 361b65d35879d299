SELECT pg_typeof(variance(1)), pg_typeof(stddev(1::numeric)), pg_typeof(var_pop(1.0::float4)), pg_typeof(stddev_pop(2::int8))
