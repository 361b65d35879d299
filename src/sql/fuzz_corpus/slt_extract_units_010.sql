SELECT date_trunc('dow', interval '1 day')
