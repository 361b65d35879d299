SELECT text(1, 2)
