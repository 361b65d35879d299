SELECT current_user, session_user
