SELECT extract(second FROM time '11:12:42.666')
