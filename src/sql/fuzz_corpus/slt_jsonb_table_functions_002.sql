SELECT * FROM jsonb_each_text('{"a":1,"b":"x","c":null}') ORDER BY key
