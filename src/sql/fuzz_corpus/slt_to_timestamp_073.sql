select to_timestamp('2458872','J')
