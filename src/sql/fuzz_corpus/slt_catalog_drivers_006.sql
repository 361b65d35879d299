SELECT oid::regtype, typelem::regtype FROM pg_type WHERE typname IN ('_text', 'int2vector', 'text') ORDER BY 1
