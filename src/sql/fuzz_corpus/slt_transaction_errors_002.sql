SELECT * FROM also_nosuch_txerr
