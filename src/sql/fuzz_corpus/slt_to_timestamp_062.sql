select to_timestamp('25','HH24')
