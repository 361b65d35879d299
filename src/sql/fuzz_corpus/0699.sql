SELECT b,
       abs(b-c)
  FROM t1
 ORDER BY 2,1