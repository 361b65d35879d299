CREATE VIEW tl_v AS SELECT k, a[2] AS second, list_length(b) AS n FROM tl
