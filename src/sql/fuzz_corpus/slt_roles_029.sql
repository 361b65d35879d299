SELECT has_database_privilege('r_alice', 'freshet', 'CONNECT'), has_database_privilege('r_robert', 'freshet', 'CONNECT'), has_database_privilege('freshet', 'freshet', 'CONNECT')
