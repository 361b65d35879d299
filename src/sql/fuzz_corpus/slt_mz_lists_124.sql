SELECT LIST[1,4,3] <@ LIST[3,1] AS contains
