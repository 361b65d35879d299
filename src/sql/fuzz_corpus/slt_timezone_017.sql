SELECT timezone('Australia/Sydney', timestamptz '2300-01-01 12:00+00')
