SELECT name FROM mz_databases ORDER BY name
