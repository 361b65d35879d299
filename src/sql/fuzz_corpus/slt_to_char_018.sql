SELECT to_char(interval '15 months', 'Y,YYY YYY YY Y FMRM rm|')
