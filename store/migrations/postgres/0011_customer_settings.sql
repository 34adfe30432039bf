-- A customer's settings (issue 16): whom to contact, by email and by phone, beside its name.
-- Its own admin changes them, and its reseller's admins under an active SETTINGS_ADMIN
-- delegation assigned to them. Columns of `tenants`: the row-level security of `tenants`
-- (migration row_level_security: every scope reads, updates only tenants in the transaction's
-- scope) covers them, and the `@directory` statement triggers (migration `customers`) move the
-- directory's version with every change, so the in-memory directory reloads on the next request.
ALTER TABLE tenants ADD COLUMN contact_email TEXT CHECK (length(contact_email) BETWEEN 3 AND 254);
ALTER TABLE tenants ADD COLUMN contact_phone TEXT CHECK (length(contact_phone) BETWEEN 3 AND 40);
