SELECT n FROM kmv WHERE s = 8::bigint AND total > 0
