SELECT pg_typeof(-2147483648), left('hello', -2147483648), pg_typeof(-2147483649), pg_typeof(-9223372036854775808)
