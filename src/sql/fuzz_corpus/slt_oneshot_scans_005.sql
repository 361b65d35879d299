SELECT count(*) FROM os_big a JOIN os_big b ON a.id = b.id + 1 WHERE a.g = 3 AND b.v < 50
