SELECT pk, a, b FROM u
