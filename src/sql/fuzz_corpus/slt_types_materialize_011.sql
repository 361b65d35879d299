SELECT convert_from('\x68656c6c6f'::bytea, 'utf-8'), length('\xe4bda0e5a5bd'::bytea, 'UTF8'), length('你好', 'utf8')
