select to_timestamp('995-1116','YYY-MMDD')
