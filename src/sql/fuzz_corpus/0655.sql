SELECT e,
       c-d
  FROM t1