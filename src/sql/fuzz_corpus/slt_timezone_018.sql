SELECT timezone('Australia/Lord_Howe', timestamptz '2024-01-01 12:00+00')
