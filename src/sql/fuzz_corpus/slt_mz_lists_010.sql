SELECT (LIST['foo', 'f}o', '"\', null, 'null', 'NULL'])::text
