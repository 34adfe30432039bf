-- A customer's settings (issue 16): whom to contact, by email and by phone, beside its name.
-- Its own admin changes them, and its reseller's admins under an active SETTINGS_ADMIN
-- delegation assigned to them. Columns of `tenants`, so the `@directory` triggers (migration
-- `customers`) move the directory's version with every change and the in-memory directory
-- reloads on the next request; the write bumps `tenants.version` as every tenant write does.
ALTER TABLE tenants ADD COLUMN contact_email TEXT CHECK (length(contact_email) BETWEEN 3 AND 254);
ALTER TABLE tenants ADD COLUMN contact_phone TEXT CHECK (length(contact_phone) BETWEEN 3 AND 40);
