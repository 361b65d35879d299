SELECT '{1,x}'::int list
