SELECT x FROM sc_r3.t
