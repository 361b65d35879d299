SELECT * FROM ms_rv
