SELECT ''::varchar(0)
