SELECT sum(row_number() OVER ()) FROM wq
