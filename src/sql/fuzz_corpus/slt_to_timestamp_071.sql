select to_timestamp('21 01','CC YY')
