SELECT * FROM sg_iv ORDER BY id, g
