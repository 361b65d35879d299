SELECT timezone('america/new_york', timestamptz '2020-01-01 12:00+00')
