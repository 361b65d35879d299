select to_timestamp('05 Dec 2000','DD Mon YYYY')
