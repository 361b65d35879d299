SELECT g, count(*), sum(v) FROM os_big WHERE v < 10 GROUP BY g ORDER BY g
