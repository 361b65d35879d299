select to_date('5874897-12-31','YYYY-MM-DD')
