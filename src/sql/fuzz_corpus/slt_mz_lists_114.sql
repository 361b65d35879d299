SELECT list_length_max((LIST[NULL]::INT LIST), 2)
