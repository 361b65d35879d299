SELECT k, v FROM kt WHERE k::numeric = 78
