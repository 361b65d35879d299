SELECT * FROM jua3, jua3
