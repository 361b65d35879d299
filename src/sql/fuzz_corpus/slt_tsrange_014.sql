SELECT tsrange('2021-01-01', '2021-01-02', 'xx')
