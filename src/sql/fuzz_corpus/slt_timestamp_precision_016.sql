SELECT '9::60'::time
