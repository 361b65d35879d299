SELECT LIST[1.234::numeric(39,2), 2.345]::numeric(39, 2) list::text;
