CREATE VIEW asof_events AS SELECT * FROM (VALUES ('joe', 100), ('mike', 101), ('sam', 200)) e (name, t) WHERE mz_now() >= t
