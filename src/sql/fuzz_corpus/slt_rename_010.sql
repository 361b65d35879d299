SELECT * FROM rn_other2
