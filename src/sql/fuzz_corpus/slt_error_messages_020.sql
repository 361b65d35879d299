SELECT * FROM errmsg_i JOIN errmsg_d USING (k)
