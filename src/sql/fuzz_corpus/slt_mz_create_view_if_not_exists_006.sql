SELECT * FROM vine_c
