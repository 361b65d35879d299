SELECT a+b*2+c*3+d*4+e*5,
       a
  FROM t1