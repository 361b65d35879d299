select to_date('2016 367','YYYY DDD')
