SELECT * FROM sp_gone
