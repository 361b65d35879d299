SELECT LIST[1] IN ('{1}', '{2}')
