SELECT k, v FROM kt WHERE k = 77::smallint
