-- Support windows (issue 16): a platform admin opens a time-bound, read-only window on one
-- tenant, with a reason; only inside it do they read that tenant's catalog, prices, users and
-- audit log. A window ends at `ends_at`, or earlier when its opener ends it (`ended_at`).
CREATE TABLE support_windows (
    id              TEXT PRIMARY KEY,
    -- The tenant looked at.
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    -- The platform tenant of the admin who opened it.
    actor_tenant_id TEXT NOT NULL REFERENCES tenants (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    -- The opener's email as it was, for the tenant's admins (who may not read platform users).
    user_email      TEXT NOT NULL,
    reason          TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    opened_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    ended_at        TEXT,
    ended_by        TEXT,
    CHECK (ends_at > opened_at)
);
CREATE INDEX support_windows_tenant ON support_windows (tenant_id, opened_at);
CREATE INDEX support_windows_opener ON support_windows (actor_tenant_id, user_id, ends_at);
