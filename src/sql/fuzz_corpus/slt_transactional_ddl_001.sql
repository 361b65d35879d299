SELECT * FROM keepme
