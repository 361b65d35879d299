SELECT extract(foo FROM time '11:00')
