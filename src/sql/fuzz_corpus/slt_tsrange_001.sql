SELECT tsrange('2021-01-01 10:00', '2021-01-01 10:05'), tsrange(NULL, '2021-01-01'::timestamp), tsrange('2021-01-01'::timestamp, NULL, '[]'), tsrange('2021-01-01'::timestamp, '2021-01-01'::timestamp)
