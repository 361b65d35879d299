select to_timestamp('january 2020','month YYYY')
