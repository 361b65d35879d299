SELECT * FROM sc_nope.t
