SELECT sale_id FROM sales WHERE CASE WHEN mz_now() < sale_date THEN true ELSE false END
