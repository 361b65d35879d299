SELECT timezone('Asia/Kolkata', timestamp '2024-01-01 12:00')
