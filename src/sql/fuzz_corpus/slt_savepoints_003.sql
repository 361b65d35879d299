SELECT x FROM sp_keep
