SELECT '{}'::int[]::int list::text;
