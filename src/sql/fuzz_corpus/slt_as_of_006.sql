SELECT * FROM asof_events AS OF 0
