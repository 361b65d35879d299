SELECT timestamptz 'x'
