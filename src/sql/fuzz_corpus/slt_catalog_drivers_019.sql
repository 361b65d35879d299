SELECT count(*) > 400 FROM pg_get_keywords() WHERE catcode IN ('R', 'U', 'C', 'T')
