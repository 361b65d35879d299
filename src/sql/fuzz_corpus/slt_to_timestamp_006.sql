select to_timestamp('99-12-31','YY-MM-DD')
