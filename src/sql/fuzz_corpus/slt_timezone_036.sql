SELECT date_bin('15 minutes', timestamp '2020-02-11 15:44:17.71393')
