SELECT k, a::text, b::text FROM tl
