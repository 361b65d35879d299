SELECT date_bin('1 hour', 'infinity'::timestamp, TIMESTAMP '2001-01-01')
