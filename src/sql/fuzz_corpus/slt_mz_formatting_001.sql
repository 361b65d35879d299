SELECT true, false, true, ''
