select to_timestamp('15:12:02.020.001230','HH24:MI:SS.MS.US')
