SELECT a, lag(b, 2, c) OVER (PARTITION BY a ORDER BY b, c), lead(b) OVER w, first_value(c) OVER w, nth_value(d, 2) OVER w FROM t1 WINDOW w AS (ORDER BY d ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING)
