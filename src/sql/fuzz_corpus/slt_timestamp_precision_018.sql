SELECT '9:5:'::time
