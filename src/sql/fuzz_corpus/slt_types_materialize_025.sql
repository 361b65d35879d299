SELECT sum(n) FROM num39
