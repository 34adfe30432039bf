-- Integration credentials (issue 16): service accounts of a tenant (ERP connectors). Each is a
-- user row of its tenant (issuer 'portico:service-account', subject = the account's id, which
-- is also its OAuth client_id), so its roles, deactivation and every audit row work as any
-- user's; this row keeps what only an account has: its secret, stored as a SHA-256 digest (the
-- secret is 256 random bits: a slow hash adds nothing against guessing it), and when it was
-- last rotated and used.
CREATE TABLE service_accounts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    secret_hash  TEXT NOT NULL,
    -- The secret's last four characters, to tell an old secret from a new one.
    secret_hint  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    rotated_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    deleted_at   TIMESTAMPTZ,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX service_accounts_tenant ON service_accounts (tenant_id, created_at);
GRANT SELECT, INSERT, UPDATE ON service_accounts TO portico_app;
ALTER TABLE service_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE service_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON service_accounts FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]));
