select to_timestamp('005527','IYYIWID')
