SELECT r FROM sessions ORDER BY r
