select to_timestamp('1997 BC 11 16','YYYY BC MM DD')
