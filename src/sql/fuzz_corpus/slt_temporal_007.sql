CREATE MATERIALIZED VIEW sales_or_mv AS SELECT sale_id FROM sales WHERE NOT (mz_now() <= sale_date)
