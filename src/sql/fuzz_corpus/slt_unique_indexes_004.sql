SELECT count(*) FROM uy
