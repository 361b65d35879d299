SELECT count(*) FROM jua3, (jua3 JOIN jua3 AS x USING (f1)) AS y
