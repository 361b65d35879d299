SELECT z FROM sc_a.sc_v
