SELECT row_number() FILTER (WHERE v > 1) OVER () FROM wf
