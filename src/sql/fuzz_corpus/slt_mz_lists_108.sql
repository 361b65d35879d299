SELECT list_length_max(LIST [[[1, 2, 3], [4]], [[5]]], 2)
