SELECT g, id, rn FROM (SELECT g, id, lag(s) OVER (PARTITION BY g ORDER BY id) AS rn FROM wf) q WHERE g < 3 ORDER BY id
