SELECT uuid_generate_v5('not a uuid', 'foo')
