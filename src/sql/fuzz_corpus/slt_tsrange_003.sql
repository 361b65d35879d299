SELECT '[2021-01-01 10:00, 2021-01-02)'::tsrange, ' empty '::tsrange, '(,)'::tsrange, '["2021-01-01 10:00:00.5",infinity]'::tsrange, pg_typeof('empty'::tsrange)
