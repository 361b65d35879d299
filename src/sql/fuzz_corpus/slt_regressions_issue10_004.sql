SELECT abs(1) OVER ()
