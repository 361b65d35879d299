SELECT * FROM jua_v
