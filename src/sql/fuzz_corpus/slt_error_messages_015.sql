SELECT nosuch.a FROM errmsg_t
