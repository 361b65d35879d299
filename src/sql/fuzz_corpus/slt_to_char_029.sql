SELECT to_char(1, '9.9.9')
