SELECT word, catdesc FROM pg_get_keywords() WHERE word IN ('select', 'abort') ORDER BY word
