SELECT list_length(LIST [1, 1])
