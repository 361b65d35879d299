SELECT g, o, v, string_agg(s, ',') OVER w, array_agg(v) OVER w FROM wf WINDOW w AS (PARTITION BY g ORDER BY o, v) ORDER BY g, o, v
