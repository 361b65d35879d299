SELECT date_bin('15 minutes', timestamptz '2020-02-11 15:44:17.71393+00') = date_bin('15 minutes', timestamptz '2020-02-11 15:44:17.71393+00', timestamptz '1970-01-01 00:00:00+00')
