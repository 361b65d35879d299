SELECT * FROM kmv WHERE s::bigint = 6
