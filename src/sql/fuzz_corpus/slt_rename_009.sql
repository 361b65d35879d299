SELECT c FROM rn_other2
