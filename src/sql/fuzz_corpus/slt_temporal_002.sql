SELECT sale_id FROM sales WHERE NOT (mz_now() <= sale_date)
