select to_timestamp('2018-11-02 12:34:56.025','YYYY-MM-DD HH24:MI:SS.MS')
