SELECT g, o, count(*), row_number() OVER (PARTITION BY g ORDER BY count(*) DESC, o NULLS FIRST), avg(max(v)) OVER (PARTITION BY o) FROM wf GROUP BY g, o ORDER BY g, o
