SELECT to_char(1, '9.9V9')
