SELECT a, b FROM tp
