SELECT 1.23456789::numeric(39,5) < 1.23456789::numeric(39,4);
