SELECT upper(s) OVER () FROM wf
