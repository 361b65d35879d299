SELECT x FROM sc_cv
