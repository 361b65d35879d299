SELECT '[' || to_char(n, 'L999') || '|' || to_char(n, '9G999D99') || '|' || to_char(n, 'FM999.999') || '|' || to_char(n, '.99') || '|' || to_char(n, 'FM.999') || ']' FROM tn
