SELECT count(*) FROM bi
