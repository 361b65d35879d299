SELECT timezone('EST', timestamptz '2020-07-01 12:00+00')
