SELECT * FROM ms_rmv
