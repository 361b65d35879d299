SELECT d8+326, c5, b1, x2, e3, x6
  FROM t5, t6, t2, t1, t3, t8
 WHERE 268=a1
   AND d6 in (931,34,664,35,674)
   AND c2 in (711,779,756)
   AND e8=966
   AND c5 in (210,602,924,678,222,696)
   AND a3=198