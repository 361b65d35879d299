select to_date('3 4 21 01','W MM CC YY')
