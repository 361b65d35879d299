select to_date('2458872','J')
