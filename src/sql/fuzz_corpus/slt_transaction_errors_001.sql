SELECT * FROM nosuch_txerr
