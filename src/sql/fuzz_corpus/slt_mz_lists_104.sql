SELECT list_n_layers(LIST [[[1], [1]], [[1]]])
