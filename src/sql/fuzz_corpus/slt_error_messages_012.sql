SELECT 1 IN (SELECT a, b FROM errmsg_t)
