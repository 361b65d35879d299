SELECT bool_and(creation_time <= clock_timestamp() AND creation_time > clock_timestamp() - interval '1 hour') FROM pg_cursors
