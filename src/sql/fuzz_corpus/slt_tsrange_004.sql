SELECT lower(r), upper(r), isempty(r), lower_inc(r), upper_inc(r), lower_inf(r), upper_inf(r) FROM (VALUES ('[2021-01-01,2021-01-02)'::tsrange), ('empty'), ('(,2021-01-01]'), (NULL)) v(r)
