SELECT date_bin('1 hour', NULL::timestamp, TIMESTAMP '2001-01-01')
