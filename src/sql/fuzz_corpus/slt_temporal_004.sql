SELECT sale_id FROM sales WHERE mz_now() NOT BETWEEN sale_date AND sale_date
