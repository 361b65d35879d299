CREATE VIEW dn_mv AS SELECT DISTINCT ON (h, g % 2) h, g % 2 AS p, id FROM dn ORDER BY h, g % 2, id DESC
