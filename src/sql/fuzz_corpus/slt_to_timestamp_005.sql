select to_timestamp('9-12-31','Y-MM-DD')
