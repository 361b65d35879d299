SELECT convert_from('\x00ff', 'utf-8')
