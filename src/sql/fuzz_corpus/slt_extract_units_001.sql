SELECT extract(month FROM time '11:12:42.666')
