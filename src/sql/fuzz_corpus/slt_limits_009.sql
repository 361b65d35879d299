SELECT octet_length(repeat('x', 1100000000))
