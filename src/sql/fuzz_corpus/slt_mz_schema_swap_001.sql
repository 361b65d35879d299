SELECT x FROM blue.t
