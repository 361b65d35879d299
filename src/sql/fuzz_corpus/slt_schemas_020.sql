SELECT * FROM sc_b.t
