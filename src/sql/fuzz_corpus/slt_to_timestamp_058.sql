select to_timestamp('2016 367','YYYY DDD')
