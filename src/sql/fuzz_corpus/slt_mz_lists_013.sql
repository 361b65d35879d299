SELECT (LIST[LIST[]::text list, LIST['a', 'b'], LIST['z']])::text
