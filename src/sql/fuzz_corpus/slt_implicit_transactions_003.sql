SELECT sum(a) FROM imp2
