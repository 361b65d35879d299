select to_timestamp('2005300','YYYYDDD')
