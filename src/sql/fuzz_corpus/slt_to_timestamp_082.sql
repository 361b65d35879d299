select to_date('20200230','YYYYMMDD')
