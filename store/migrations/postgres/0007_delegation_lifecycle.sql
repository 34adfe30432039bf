-- The delegation lifecycle (issue 16): a message and a duration with the request, an optional
-- auto-extension, when and by whom a delegation ended, the EXPIRED state the expiry job writes
-- (approved delegations past their end, and pending requests that lapsed), and the named
-- reseller staff a delegation is assigned to.
ALTER TABLE delegations
    ADD COLUMN message       TEXT,
    ADD COLUMN duration_days BIGINT,
    ADD COLUMN auto_extend   BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN ended_at      TIMESTAMPTZ,
    ADD COLUMN ended_by      TEXT,
    DROP CONSTRAINT delegations_status_check,
    ADD CONSTRAINT delegations_status_check
        CHECK (status IN ('PENDING', 'ACTIVE', 'REJECTED', 'REVOKED', 'EXPIRED'));
UPDATE delegations SET ended_at = revoked_at WHERE revoked_at IS NOT NULL;
CREATE INDEX delegations_due ON delegations (status, expires_at);

-- The reseller's staff a delegation is assigned to: only they may use its scopes. Seen by both
-- parties, as the delegation is.
CREATE TABLE delegation_assignments (
    delegation_id TEXT NOT NULL REFERENCES delegations (id),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    reseller_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    assigned_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delegation_id, user_id)
);
CREATE INDEX delegation_assignments_tenant ON delegation_assignments (tenant_id, reseller_id);
GRANT SELECT, INSERT, DELETE ON delegation_assignments TO portico_app;
ALTER TABLE delegation_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE delegation_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON delegation_assignments FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]) OR reseller_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]) OR reseller_id = ANY ((SELECT portico_scope())::text[]));
