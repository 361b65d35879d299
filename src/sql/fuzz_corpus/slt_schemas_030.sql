SELECT c.name, c.position, c.nullable, c.type, c.default FROM mz_columns c JOIN mz_tables t ON c.id = t.id WHERE t.name = 't'
