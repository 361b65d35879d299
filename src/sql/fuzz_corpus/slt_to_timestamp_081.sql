select to_date('2020-02-29','YYYY-MM-DD')
