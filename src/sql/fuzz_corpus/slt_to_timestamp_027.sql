select to_timestamp('9-1116','Y-MMDD')
