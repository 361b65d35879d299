select to_timestamp('95-1116','YY-MMDD')
