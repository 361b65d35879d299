SELECT count(*), sum(v), min(t), max(id) FROM os_big
