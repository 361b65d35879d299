SELECT (LIST['ab'::char, 'cd'::varchar, 'ef'::text])::text
