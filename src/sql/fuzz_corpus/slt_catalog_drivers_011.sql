SELECT unnest(ARRAY[1,2,3]) AS u, unnest(ARRAY['a','b']) AS v
