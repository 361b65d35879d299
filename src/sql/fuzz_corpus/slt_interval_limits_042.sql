SELECT INTERVAL ':::1- ::2 ::::3:'
