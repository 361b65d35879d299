select to_timestamp('2020 20 1','CC YY D')
