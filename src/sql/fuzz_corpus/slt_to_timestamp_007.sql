select to_timestamp('519-12-31','YYY-MM-DD')
