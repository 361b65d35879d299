SELECT to_char(ts, 'YYYY A.D. a.d. AD ad B.C. bc HH:MI:SS P.M. p.m. PM am') FROM tc
