select to_timestamp('12:30 AM','HH12:MI AM')
