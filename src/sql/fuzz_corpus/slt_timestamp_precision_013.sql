SELECT timestamp 'foo'
