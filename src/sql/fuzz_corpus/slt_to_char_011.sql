SELECT to_char(date '2024-02-29', 'Day, DD Month YYYY')
