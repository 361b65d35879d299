SELECT count(*) FROM txerr
