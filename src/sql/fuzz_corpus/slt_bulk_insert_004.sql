SELECT id, v FROM bi4 WHERE id < 15
