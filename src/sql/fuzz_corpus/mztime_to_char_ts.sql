SELECT to_char(timestamp '2024-03-21 12:09:23.5', 'FMDay, DDth Month YYYY HH12:MI:SS.MS AM TZ IYYY-IW-ID RM CC J Q "quoted\"" FF3')
