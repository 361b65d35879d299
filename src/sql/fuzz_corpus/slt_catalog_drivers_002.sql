SELECT 'cd_t'::regclass, 'public.cd_t'::regclass::text
