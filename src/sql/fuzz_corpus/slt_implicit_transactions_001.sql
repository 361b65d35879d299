SELECT count(*) FROM imp
