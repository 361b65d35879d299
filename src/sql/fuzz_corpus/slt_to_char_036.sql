SELECT to_char(1, 'FM9.9EEEE')
