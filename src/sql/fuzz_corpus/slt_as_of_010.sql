SELECT * FROM asof_data AS OF NULL::numeric
