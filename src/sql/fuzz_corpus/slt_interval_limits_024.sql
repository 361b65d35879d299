SELECT justify_hours(interval '2147483647 days 24 hrs')
