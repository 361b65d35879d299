SELECT count(*) FROM asof_now
