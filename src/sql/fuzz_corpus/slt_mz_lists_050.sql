SELECT to_jsonb(list[1, 2]::int list)
