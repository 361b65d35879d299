select to_timestamp('20000-1116','YYYY-MMDD')
