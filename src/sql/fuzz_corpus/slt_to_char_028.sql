SELECT '[' || to_char(3999, 'RN') || '|' || to_char(485, 'FMRN') || '|' || to_char(-485, 'RN') || ']'
