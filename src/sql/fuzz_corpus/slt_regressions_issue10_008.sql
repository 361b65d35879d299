SELECT q, f FROM i10_agg_iv
