SELECT date('2000')
