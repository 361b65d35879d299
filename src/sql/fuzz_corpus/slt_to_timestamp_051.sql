select to_timestamp('12:30','HH24:MI')
