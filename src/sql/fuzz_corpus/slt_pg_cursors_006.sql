SELECT name, is_holdable FROM pg_cursors
