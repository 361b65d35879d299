SELECT * FROM asof_data AS OF 192741824E4::numeric
