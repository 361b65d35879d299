SELECT to_char(interval '100 hours 30 minutes', 'HH24:MI:SS FMHH24 SSSS AM')
