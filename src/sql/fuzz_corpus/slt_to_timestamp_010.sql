select to_timestamp('13:30 PM','HH:MI PM')
