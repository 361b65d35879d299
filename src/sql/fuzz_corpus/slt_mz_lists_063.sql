SELECT g, vs::text, pair::text, n FROM item_lists
