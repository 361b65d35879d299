SELECT list_n_layers(NULL)
