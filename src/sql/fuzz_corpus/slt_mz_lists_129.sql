SELECT '{1, 2, 3, NULL}'::numeric list @> '{1, NULL}'::numeric list;
