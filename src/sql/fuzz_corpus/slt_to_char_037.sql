SELECT to_char('NaN'::numeric, 'RN')
