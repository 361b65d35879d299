SELECT timezone('EST5EDT,M3.2.0/2,M11.1.0/2', timestamptz '2020-07-01 12:00+00')
