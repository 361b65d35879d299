SELECT * FROM asof_data AS OF 1.2
