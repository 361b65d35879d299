SELECT round('9.876e38'::numeric, -37), round(9e38, -40)
