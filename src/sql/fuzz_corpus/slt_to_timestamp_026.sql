select to_timestamp('1997 A.D. 11 16','YYYY B.C. MM DD')
