SELECT a, lag(a) OVER (PARTITION BY lag(length(b)) OVER (ORDER BY a) ORDER BY a) FROM wq
