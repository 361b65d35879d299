SELECT k, v FROM kt WHERE k = 79 AND v = 'other'
