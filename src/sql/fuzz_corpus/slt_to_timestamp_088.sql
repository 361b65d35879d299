select to_date('2016 366','YYYY DDD')
