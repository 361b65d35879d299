SELECT y FROM freshet.sc_a.sc_t
