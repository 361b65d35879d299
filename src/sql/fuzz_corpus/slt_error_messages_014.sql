SELECT * FROM (errmsg_t JOIN errmsg_u USING (a)) AS x WHERE errmsg_t.a = 1
