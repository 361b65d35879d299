SELECT k, v FROM t1, jsonb_each(jsonb_build_object('a', a, 'b', b)) AS e(k, v) WHERE v <> 'null'
