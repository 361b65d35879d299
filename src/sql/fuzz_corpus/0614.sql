SELECT b-c,
       c
  FROM t1
 ORDER BY 1,2