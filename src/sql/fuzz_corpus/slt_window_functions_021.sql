SELECT nth_value(v, 0) OVER () FROM wf
