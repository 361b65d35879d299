SELECT id, jsonb_array_elements_text(j) AS e FROM sg
