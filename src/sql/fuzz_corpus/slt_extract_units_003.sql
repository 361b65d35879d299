SELECT extract(dow FROM time '11:00')
