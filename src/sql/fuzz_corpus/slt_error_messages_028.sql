SELECT * FROM errmsg_j AS t1 JOIN errmsg_j AS t2 USING (f1) JOIN errmsg_j AS t3 ON true JOIN errmsg_j AS t4 USING (f2)
