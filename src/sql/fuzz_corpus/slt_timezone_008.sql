SELECT timezone('<+0330>-3:30', timestamptz '2020-07-01 12:00+00')
