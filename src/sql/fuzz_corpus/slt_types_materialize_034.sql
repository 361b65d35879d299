SELECT sqrt('.98765432109876543210'::numeric), sqrt(2::numeric), sqrt(9e-39), sqrt(123456789.123456789::numeric)
