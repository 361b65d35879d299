SELECT list_n_layers((LIST[[1],NULL]::INT LIST LIST)[2])
