SELECT x FROM sc_b.t
