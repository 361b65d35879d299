SELECT count(*) FROM sp_t
