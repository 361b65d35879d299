SELECT '[' || to_char(n, '9,999.99') || '|' || to_char(n, 'FM9,999.99') || '|' || to_char(n, 'S9999.9') || '|' || to_char(n, '9999.9S') || ']' FROM tn
