SELECT y FROM otherdb.sc_a.sc_t
