SELECT a FROM txerr
