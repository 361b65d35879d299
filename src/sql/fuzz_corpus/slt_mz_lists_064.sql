SELECT g, vs::text, first FROM item_lists_v WHERE g = 2
