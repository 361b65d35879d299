select to_date('1 4 1902','Q MM YYYY')
