SELECT row_number() FROM wq
