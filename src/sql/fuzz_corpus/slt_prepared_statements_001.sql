SELECT count(*) FROM ps_foo
