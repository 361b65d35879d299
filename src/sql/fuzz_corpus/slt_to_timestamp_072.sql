select to_timestamp('21','CC')
