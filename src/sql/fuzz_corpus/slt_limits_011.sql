WITH s AS (SELECT repeat('x', 540000000) AS v) SELECT octet_length(v || v) FROM s
