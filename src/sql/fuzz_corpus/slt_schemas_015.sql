CREATE VIEW sc_outside AS SELECT count(*) AS n FROM sc_a.t
