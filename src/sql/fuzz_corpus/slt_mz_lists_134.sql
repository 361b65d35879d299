SELECT ARRAY[1.5, 2.4]::int list::text;
