SELECT x2, d6, a7+c7, a3
  FROM t3, t2, t7, t6
 WHERE 564=e2
   AND e7 in (503,979,6)
   AND a3 in (591,696,376,303,952,190)
   AND 822=d6