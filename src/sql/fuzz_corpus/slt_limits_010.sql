SELECT octet_length(lpad('x', 1100000000))
