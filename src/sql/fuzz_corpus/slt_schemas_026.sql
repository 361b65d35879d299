SELECT y FROM sc_c.sc_cmv
