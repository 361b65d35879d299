SELECT timestamptz '2010-07-01 12:00 MSK'
