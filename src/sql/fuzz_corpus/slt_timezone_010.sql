SELECT timezone('MSK', timestamptz '2010-07-01 12:00+00')
