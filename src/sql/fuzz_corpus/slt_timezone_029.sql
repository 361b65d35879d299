SELECT timestamptz '2020-03-08 02:30 America/New_York'
