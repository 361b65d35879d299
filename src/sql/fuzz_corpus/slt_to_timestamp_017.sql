select to_timestamp('1,582nd VIII 21','Y,YYYth FMRM DD')
