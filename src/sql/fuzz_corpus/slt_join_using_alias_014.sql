SELECT count(*) FROM jua3 AS a, jua3 AS b, (jua3 AS c JOIN jua3 AS d USING (f1)) AS e
