SELECT v, lag(v, -1) OVER (ORDER BY v), lead(v, NULL) OVER (ORDER BY v), lag(v, 1, 1.5) OVER (ORDER BY v), nth_value(v, 10) OVER (ORDER BY v) FROM wf ORDER BY v
