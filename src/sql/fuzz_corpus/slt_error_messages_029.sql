SELECT * FROM errmsg_j AS t1 JOIN errmsg_j AS t2 USING (f1, f2) JOIN errmsg_j AS t3 USING (f1)
