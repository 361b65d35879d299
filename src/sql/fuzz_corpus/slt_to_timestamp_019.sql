select to_timestamp('2000January09Sunday','YYYYFMMonthDDFMDay')
