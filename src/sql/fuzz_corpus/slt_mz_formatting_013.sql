SELECT E'line 1\nline 2'
