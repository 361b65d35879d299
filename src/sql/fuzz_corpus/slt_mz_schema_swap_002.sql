SELECT x FROM green.t
