select to_timestamp('97/Feb/16','YY:Mon:DD')
