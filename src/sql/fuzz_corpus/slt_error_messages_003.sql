SELECT 'true'::text IS UNKNOWN
