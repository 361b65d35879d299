SELECT '{1,2,3}'::int[]::int list::text;
