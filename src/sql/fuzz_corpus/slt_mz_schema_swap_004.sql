SELECT x FROM purple.t
