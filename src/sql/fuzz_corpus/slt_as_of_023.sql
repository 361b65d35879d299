CREATE VIEW asof_now AS SELECT mz_now() AS t
