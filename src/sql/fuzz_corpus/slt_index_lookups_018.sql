SELECT * FROM kmv WHERE s::numeric = 7.000
