SELECT timestamp 'infinity' AT TIME ZONE 'UTC'
