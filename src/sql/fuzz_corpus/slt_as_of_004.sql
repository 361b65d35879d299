SELECT mz_now() AS OF 1
