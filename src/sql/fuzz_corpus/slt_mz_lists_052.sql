SELECT to_jsonb(list[1.2, .3]::float list)
