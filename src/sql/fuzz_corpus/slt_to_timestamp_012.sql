select to_timestamp('2011-12-18 11:38 -05:30','YYYY-MM-DD HH12:MI TZH:TZM')
