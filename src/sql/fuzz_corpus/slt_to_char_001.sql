SELECT to_char(ts, 'DAY Day day DY Dy dy MONTH Month month RM rm MON Mon mon') FROM tc
