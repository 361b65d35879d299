SELECT x FROM sc_r2.t
