SELECT convert_from('\x68', 'invalid encoding')
