SELECT nosuch_column FROM txerr
