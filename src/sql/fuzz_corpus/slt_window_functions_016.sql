SELECT g, sum(v) OVER () FROM wf GROUP BY g
