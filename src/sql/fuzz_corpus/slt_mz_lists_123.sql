SELECT LIST[1,4,3] @> LIST[3,1,1,1,3,3,1] AS contains
