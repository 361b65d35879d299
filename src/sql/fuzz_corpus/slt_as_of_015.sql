SELECT * FROM asof_data AS OF a
