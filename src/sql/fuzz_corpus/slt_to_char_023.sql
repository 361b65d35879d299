SELECT '[' || to_char(n, '9999MI') || '|' || to_char(n, 'PL999.9') || '|' || to_char(n, 'SG999') || '|' || to_char(n, '999PR') || '|' || to_char(n, 'FM999PR') || ']' FROM tn
