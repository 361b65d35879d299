SELECT date_part('FOO', timestamp '2020-01-01')
