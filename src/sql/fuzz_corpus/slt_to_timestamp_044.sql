select to_timestamp('2011-12-18 11:38 20','YYYY-MM-DD HH12:MI TZM')
