SELECT NULL::int[]::int list::text;
