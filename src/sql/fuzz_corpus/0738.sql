SELECT x4, b1, b9, a6*449+c1, x2
  FROM t2, t9, t4, t1, t6
 WHERE (d6=337 OR 767=d6 OR 797=d6 OR d6=750)
   AND b4=b1
   AND (c9=809 OR c9=526 OR 613=c9)
   AND b2=c6
   AND (a1=109 OR a1=674 OR a1=61 OR a1=492)