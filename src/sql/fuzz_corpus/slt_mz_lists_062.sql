CREATE VIEW item_lists_v AS SELECT g, vs, vs[1] AS first FROM item_lists
