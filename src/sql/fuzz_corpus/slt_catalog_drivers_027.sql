SELECT x, y FROM upper('ab') AS x, lower('CD') y
