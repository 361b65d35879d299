SELECT DISTINCT ON (g % 2) g % 2 AS p, id FROM dn ORDER BY g % 2, id
