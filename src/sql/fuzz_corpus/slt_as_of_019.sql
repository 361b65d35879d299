SELECT * FROM asof_valid AS OF 2
