SELECT date_part('MONTH', time '11:12:42.666')
