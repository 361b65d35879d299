SELECT x FROM sc_c.sc_cv
