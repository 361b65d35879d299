CREATE VIEW budget_v AS SELECT k % 10 AS g, max(v) AS m FROM budget_t GROUP BY 1
