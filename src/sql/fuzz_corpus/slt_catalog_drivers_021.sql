SELECT format_type('character varying'::regtype, 44)
