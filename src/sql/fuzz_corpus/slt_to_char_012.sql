SELECT to_char(ts, NULL) FROM tc LIMIT 1
