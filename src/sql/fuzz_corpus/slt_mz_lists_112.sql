SELECT list_length_max((LIST[[1],NULL]::INT LIST LIST), 2)
