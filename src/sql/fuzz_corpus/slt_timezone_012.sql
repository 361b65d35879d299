SELECT timezone('cest', timestamptz '2020-01-01 12:00+00')
