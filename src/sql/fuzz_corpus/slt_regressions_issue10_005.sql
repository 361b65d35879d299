CREATE VIEW i10_sq_iv AS SELECT * FROM i10_squares WHERE x IN (WITH sy AS (SELECT i10_squares.y) SELECT y FROM i10_roots WHERE y IN (SELECT y FROM sy))
