SELECT d
  FROM t1
 WHERE (e>c OR e<d)