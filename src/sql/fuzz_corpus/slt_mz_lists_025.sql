SELECT LIST [[1, 2, 3], [4, 5]][1][3]
