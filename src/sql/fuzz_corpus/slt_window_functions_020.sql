SELECT ntile(0) OVER () FROM wf
