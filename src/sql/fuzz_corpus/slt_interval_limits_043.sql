SELECT INTERVAL '01:02:03minute hour day year'
