SELECT * FROM rec_nested
