select to_timestamp('12:30 PM','HH:MI AM')
