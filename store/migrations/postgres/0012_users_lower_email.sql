-- An invitation checks that its email is not used in the tenant yet, and the first sign-in
-- finds the open invitation for its email, both case-insensitively (`lower(email)`): without an
-- index on that expression each of them reads every user of the tenant.
CREATE INDEX users_tenant_lower_email ON users (tenant_id, lower(email));
