SELECT current_database() AS OF 1
