CREATE VIEW green.v AS SELECT x FROM green.t
