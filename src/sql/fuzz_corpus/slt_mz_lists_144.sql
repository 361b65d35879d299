SELECT length(LIST[1])
