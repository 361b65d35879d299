SELECT 1E-39 / 10::numeric
