SELECT id, a, s FROM bi2
