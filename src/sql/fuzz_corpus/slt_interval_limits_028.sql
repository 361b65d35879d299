SELECT timestamp '2000-01-01' - interval '-2147483648 days'
