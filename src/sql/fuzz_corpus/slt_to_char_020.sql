SELECT to_char(interval '1 day', 'TZ')
