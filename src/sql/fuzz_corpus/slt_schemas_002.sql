SELECT y FROM sc_a.sc_t
