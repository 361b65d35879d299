SELECT * FROM sales_or
