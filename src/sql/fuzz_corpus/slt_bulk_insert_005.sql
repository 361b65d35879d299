SELECT count(*) FROM bi4
