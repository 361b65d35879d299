SELECT name, statement, is_holdable, is_binary, is_scrollable FROM pg_cursors ORDER BY name
