SELECT id, jsonb_array_elements(j) FROM sg
