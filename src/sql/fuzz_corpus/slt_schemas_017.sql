SELECT * FROM sc_a.t
