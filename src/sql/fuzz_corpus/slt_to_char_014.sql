SELECT to_char(timestamp '2024-01-01 15:00', 'HH12 FMHH12 hh24 xyz 12 "a\bc"')
