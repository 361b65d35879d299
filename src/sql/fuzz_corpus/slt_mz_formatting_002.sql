SELECT NULL::text, 'a b'
