SELECT list_n_layers(LIST [1, 2, 3])
