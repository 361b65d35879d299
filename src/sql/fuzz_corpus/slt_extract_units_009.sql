SELECT date_trunc('week', interval '1 day')
