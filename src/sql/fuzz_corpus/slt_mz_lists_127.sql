SELECT '{NULL}'::numeric list @> '{NULL}'::numeric list;
