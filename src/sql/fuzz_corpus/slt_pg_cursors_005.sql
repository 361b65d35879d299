SELECT name FROM pg_cursors ORDER BY name
