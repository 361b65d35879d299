SELECT length('\x68'::bytea, 'latin1')
