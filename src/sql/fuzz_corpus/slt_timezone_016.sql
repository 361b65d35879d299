SELECT timezone('America/New_York', timestamptz '2100-07-01 12:00+00')
