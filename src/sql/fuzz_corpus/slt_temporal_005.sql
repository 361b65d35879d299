CREATE VIEW sales_or AS SELECT sale_id FROM sales WHERE mz_now() <= sale_date OR quantity > 1
