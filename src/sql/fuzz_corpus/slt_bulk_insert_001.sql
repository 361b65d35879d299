SELECT id, i8, n, f, t, b, d FROM bi
