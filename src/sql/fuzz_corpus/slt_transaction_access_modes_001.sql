SELECT a FROM txmode
