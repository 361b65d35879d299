SELECT ''::varchar(10485761)
