SELECT id, v FROM keepme ORDER BY id
