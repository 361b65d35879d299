SELECT date('2020-01-01'), int4('12'), text(12), bool(1), date('2020-01-01 10:00'::timestamp)
