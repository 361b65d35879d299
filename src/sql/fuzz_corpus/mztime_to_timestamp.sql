SELECT to_timestamp('2011-12-18 11:38 PM -05:30', 'YYYY-MM-DD HH12:MI PM TZH:TZM'), to_date('2005527', 'IYYYIWID'), to_timestamp('1,582nd VIII 21', 'Y,YYYth FMRM DD')
