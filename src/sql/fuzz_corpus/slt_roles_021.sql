SELECT has_schema_privilege('r_robert', 'public', 'CREATE'), has_schema_privilege('r_alice', 'public', 'CREATE')
