SELECT timezone('Europe/Moscow', timestamptz '1900-07-01 12:00+00')
