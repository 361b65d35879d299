select to_timestamp('2000 ++ JUN','YYYY  MON')
