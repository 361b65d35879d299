SELECT sum(v) OVER w FROM wf
