SELECT count(*), sum(v) FROM os_big WHERE v >= 1000
