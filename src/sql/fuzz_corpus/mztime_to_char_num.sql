SELECT to_char(-1234.567, 'FMS9G999D99PR'), to_char(42, '9999th RN V99 MI PL SG L'), to_char(1.5::float8, '0000.000')
