select to_timestamp('2005364','IYYYIDDD')
