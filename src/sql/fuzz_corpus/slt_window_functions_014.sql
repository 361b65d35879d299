SELECT g, sum(v), rank() OVER (ORDER BY sum(v) DESC NULLS LAST), sum(sum(v)) OVER (ORDER BY g), lag(count(*)) OVER (ORDER BY g) FROM wf GROUP BY g ORDER BY g
