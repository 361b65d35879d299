SELECT count(*), max(id) FROM os_big
