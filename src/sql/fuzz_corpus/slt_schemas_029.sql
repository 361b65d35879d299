SELECT t.name FROM mz_tables t WHERE t.name = 't'
