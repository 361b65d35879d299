SELECT * FROM errmsg_t AS x WHERE errmsg_t.a = 1
