SELECT 1 WHERE mz_logical_timestamp() = 0
