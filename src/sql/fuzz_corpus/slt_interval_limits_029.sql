SELECT timestamp 'infinity' - interval '-2147483648 MONTHS'
