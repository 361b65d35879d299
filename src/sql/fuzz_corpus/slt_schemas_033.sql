SELECT x FROM sc_r.t
