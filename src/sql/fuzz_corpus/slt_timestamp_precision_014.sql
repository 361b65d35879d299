SELECT '-01:02:03.04'::time
