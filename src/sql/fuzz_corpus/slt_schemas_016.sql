SELECT * FROM sc_outside
