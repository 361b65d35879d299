SELECT * FROM vine_b
