SELECT count(*) FROM pg_cursors
