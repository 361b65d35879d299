select to_date('2023 Mon 05','YYYY Dy IW')
