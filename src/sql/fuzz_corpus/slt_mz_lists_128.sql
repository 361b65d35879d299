SELECT '{NULL, 1}'::numeric list @> '{1}'::numeric list;
