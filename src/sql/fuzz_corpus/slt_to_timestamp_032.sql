select to_timestamp('2005527','IYYYIWID')
