SELECT * FROM asof_events AS OF 101
