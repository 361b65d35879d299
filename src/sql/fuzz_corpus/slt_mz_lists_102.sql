SELECT ('1.2'::numeric(38,1) || '{2.3}'::numeric(38,0) list)::text
