SELECT e,
       (a+b+c+d+e)/5
  FROM t1