SELECT 1 < ALL (SELECT * FROM errmsg_nullary)
