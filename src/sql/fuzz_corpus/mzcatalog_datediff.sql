SELECT datediff('day', now(), now() + interval '1 day')
