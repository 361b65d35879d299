SELECT '{1,2'::int list
