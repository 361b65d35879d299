SELECT x.f1, f2, f3 FROM jua1 JOIN jua2 USING (f1) AS x
