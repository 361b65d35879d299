SELECT to_char(timestamp '2024-01-01', '')
