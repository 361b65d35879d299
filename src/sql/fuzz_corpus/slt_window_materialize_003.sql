SELECT sum(sum(a) OVER ()) OVER () FROM wq
