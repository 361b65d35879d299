SELECT records, operator_bytes > 20000, bytes = arrangement_bytes + operator_bytes, budget_bytes > 0
FROM mz_arrangement_sizes WHERE object_name = 'budget_v'
