SELECT * FROM dn_mv ORDER BY h, p
