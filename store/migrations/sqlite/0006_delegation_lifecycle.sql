-- The delegation lifecycle (issue 16): a message and a duration with the request, an optional
-- auto-extension, when and by whom a delegation ended, the EXPIRED state the expiry job writes
-- (approved delegations past their end, and pending requests that lapsed), and the named
-- reseller staff a delegation is assigned to. SQLite cannot change a CHECK in place: the table is
-- rebuilt with its rows.
CREATE TABLE delegations_next (
    id            TEXT PRIMARY KEY,
    -- The customer that delegates: the delegation is its to approve, decline and revoke.
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    reseller_id   TEXT NOT NULL REFERENCES tenants (id),
    scopes        TEXT NOT NULL CHECK (length(scopes) > 0),
    status        TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REJECTED', 'REVOKED', 'EXPIRED')),
    requested_at  TEXT NOT NULL,
    approved_at   TEXT,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    message       TEXT,
    duration_days INTEGER,
    auto_extend   INTEGER NOT NULL DEFAULT 0,
    ended_at      TEXT,
    ended_by      TEXT,
    CHECK (expires_at > requested_at)
);
INSERT INTO delegations_next (id, tenant_id, reseller_id, scopes, status, requested_at, approved_at,
                              expires_at, revoked_at, ended_at)
    SELECT id, tenant_id, reseller_id, scopes, status, requested_at, approved_at, expires_at,
           revoked_at, revoked_at
    FROM delegations;
DROP TABLE delegations;
ALTER TABLE delegations_next RENAME TO delegations;
CREATE INDEX delegations_tenant ON delegations (tenant_id, reseller_id);
CREATE INDEX delegations_reseller ON delegations (reseller_id, tenant_id);
CREATE INDEX delegations_due ON delegations (status, expires_at);

-- The reseller's staff a delegation is assigned to: only they may use its scopes.
CREATE TABLE delegation_assignments (
    delegation_id TEXT NOT NULL REFERENCES delegations (id),
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    reseller_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    assigned_at   TEXT NOT NULL,
    PRIMARY KEY (delegation_id, user_id)
);
CREATE INDEX delegation_assignments_tenant ON delegation_assignments (tenant_id, reseller_id);
