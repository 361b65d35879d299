SELECT variance('a'::text)
