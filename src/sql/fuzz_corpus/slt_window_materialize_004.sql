SELECT DISTINCT ON (row_number() OVER (ORDER BY a) % 2) a, g FROM wq ORDER BY row_number() OVER (ORDER BY a) % 2
