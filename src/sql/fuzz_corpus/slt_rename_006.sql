SELECT ten FROM rn_v3
