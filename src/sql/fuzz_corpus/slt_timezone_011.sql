SELECT timezone('MSK', timestamptz '2012-07-01 12:00+00')
