SELECT date_bin('1 hour', TIMESTAMP '2020-02-11', 'infinity'::timestamp)
