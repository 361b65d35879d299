SELECT tsrange('2021-01-01'::timestamp, '2021-01-01'::timestamp, '[]'), tsrange('2021-01-01'::timestamp, '2021-01-01'::timestamp, '()'), tsrange(NULL, NULL)
