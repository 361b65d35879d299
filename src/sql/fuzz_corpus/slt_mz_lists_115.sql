SELECT list_length_max((LIST[1]::INT LIST), 0)
