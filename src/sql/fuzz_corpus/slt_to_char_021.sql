SELECT '[' || to_char(n, '999') || '|' || to_char(n, '9990.99') || '|' || to_char(n, 'FM9990.99') || '|' || to_char(n, '00000') || ']' FROM tn
