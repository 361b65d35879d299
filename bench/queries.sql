-- One query per line: name|SQL. Every query has an ORDER BY, so both engines' results can be
-- compared byte for byte.
count_sum|SELECT count(*), sum(qty * price) FROM sales
revenue_by_region|SELECT c.region, count(*), sum(s.qty * s.price) FROM sales s JOIN customers c ON s.customer_id = c.id GROUP BY c.region ORDER BY c.region
units_by_category|SELECT p.category, count(*), sum(s.qty), min(s.price), max(s.price) FROM sales s JOIN products p ON s.product_id = p.id GROUP BY p.category ORDER BY p.category
region_x_category_h2|SELECT c.region, p.category, sum(s.qty * s.price) FROM sales s JOIN customers c ON s.customer_id = c.id JOIN products p ON s.product_id = p.id WHERE s.sold_at >= DATE '2024-07-01' GROUP BY c.region, p.category ORDER BY c.region, p.category
top_customers|SELECT s.customer_id, sum(s.qty * s.price) AS revenue FROM sales s GROUP BY s.customer_id ORDER BY revenue DESC, s.customer_id LIMIT 10
distinct_buyers|SELECT count(DISTINCT customer_id) FROM sales WHERE qty > 5
monthly|SELECT extract(month FROM sold_at) AS m, count(*), sum(qty) FROM sales GROUP BY extract(month FROM sold_at) ORDER BY m
big_products|SELECT p.id, p.name, count(*) FROM sales s JOIN products p ON p.id = s.product_id WHERE p.list_price > 400 GROUP BY p.id, p.name HAVING count(*) > 1000 ORDER BY count(*) DESC, p.id LIMIT 20
