SELECT length('\x68'::bytea, 'iso-123')
