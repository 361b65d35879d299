SELECT e6+e3, x9, b4, a3+a7, b1+c4, x2, d7, c5*484+d3
  FROM t5, t7, t1, t2, t3, t6, t4, t9
 WHERE c9=c1
   AND d2 in (892,772,86,547,621,537,873,46)
   AND e7 in (827,605,120,127,144,508,215)
   AND b4 in (33,323,907,579)
   AND 194=a1
   AND 614=a3
   AND d6 in (807,578,797)
   AND 443=c5