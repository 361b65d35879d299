SELECT LIST[2,7] <@ LIST[1,7,4,2,6] AS is_contained_by
