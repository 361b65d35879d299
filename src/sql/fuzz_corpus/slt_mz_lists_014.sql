SELECT ('{ {1, NULL}, {}, NULL }'::int list list)::text
