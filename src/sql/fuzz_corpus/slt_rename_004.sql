SELECT indexname FROM pg_indexes WHERE tablename = 'rn_u'
