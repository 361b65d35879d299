SELECT row_number() FROM errmsg_t
