SELECT a+b*2,
       b
  FROM t1
 ORDER BY 1,2