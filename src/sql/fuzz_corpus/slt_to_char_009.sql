SELECT to_char(ts, '"HH:MI:SS is" HH:MI:SS "\"quoted\"" \"x\" TZ tz TZH:TZM OF') FROM tc
