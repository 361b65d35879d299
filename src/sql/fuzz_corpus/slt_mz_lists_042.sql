SELECT list_length((LIST[[1],NULL]::INT LIST LIST)[2])
