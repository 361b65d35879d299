SELECT ((LIST[]::INT LIST)[1:1])::text
