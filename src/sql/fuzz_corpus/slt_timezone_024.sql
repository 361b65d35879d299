SELECT date_trunc('hour', timestamptz '2020-07-01 02:40+00', 'Asia/Kolkata')
