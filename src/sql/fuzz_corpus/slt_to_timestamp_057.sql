select to_timestamp('2015 365','YYYY DDD')
