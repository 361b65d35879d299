select to_date('5874898-01-01','YYYY-MM-DD')
