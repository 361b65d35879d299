SELECT timestamp '2024-01-01 10:00:00+05bc'
