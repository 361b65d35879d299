SELECT ''::char(0)
