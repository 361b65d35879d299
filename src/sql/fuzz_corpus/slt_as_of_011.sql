SELECT * FROM asof_data AS OF 7/0
