select to_timestamp('1997 AD 11 16','YYYY BC MM DD')
