-- Portico's data model on SQLite. Every tenant-owned table carries `tenant_id` (the owner) and its
-- composite indexes lead with it. Times are RFC 3339 text; money is integer minor units + currency.

CREATE TABLE portico_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES tenants (id),
    kind       TEXT NOT NULL CHECK (kind IN ('PLATFORM', 'RESELLER', 'CUSTOMER')),
    slug       TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 2 AND 63),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    region     TEXT CHECK (region IN ('EU', 'NA', 'APAC')),
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    CHECK ((kind = 'PLATFORM') = (parent_id IS NULL)),
    CHECK (kind <> 'CUSTOMER' OR region IS NOT NULL)
);
CREATE INDEX tenants_parent ON tenants (parent_id);

CREATE TABLE domains (
    host       TEXT PRIMARY KEY CHECK (host = lower(host)),
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    created_at TEXT NOT NULL
);
CREATE INDEX domains_tenant ON domains (tenant_id);

CREATE TABLE identity_providers (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    issuer_url        TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    client_secret_ref TEXT,
    audience          TEXT NOT NULL,
    algorithms        TEXT NOT NULL DEFAULT 'RS256',
    created_at        TEXT NOT NULL,
    UNIQUE (tenant_id, issuer_url)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    issuer         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    email          TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    deactivated_at TEXT,
    deleted_at     TEXT,
    UNIQUE (issuer, subject)
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);

CREATE TABLE role_assignments (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('platform_admin', 'reseller_admin', 'pricing_manager',
                   'sales_rep', 'support', 'customer_admin', 'buyer', 'viewer')),
    -- Comma-separated region codes, only for region-limited roles (sales_rep). Read per user,
    -- never filtered on, so a column is enough.
    regions    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role)
);

CREATE TABLE delegations (
    id           TEXT PRIMARY KEY,
    -- The customer that grants: the grant is its to approve and revoke.
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    reseller_id  TEXT NOT NULL REFERENCES tenants (id),
    scopes       TEXT NOT NULL CHECK (length(scopes) > 0),
    status       TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REJECTED', 'REVOKED')),
    requested_at TEXT NOT NULL,
    approved_at  TEXT,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    CHECK (expires_at > requested_at)
);
CREATE INDEX delegations_tenant ON delegations (tenant_id, reseller_id);
CREATE INDEX delegations_reseller ON delegations (reseller_id, tenant_id);

CREATE TABLE master_products (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    brand       TEXT,
    category    TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    supplier    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT,
    UNIQUE (tenant_id, sku)
);

CREATE TABLE listings (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    master_product_id TEXT REFERENCES master_products (id),
    -- For a listing of a master product these override the master's values when set (white
    -- label); for the reseller's own product they are the product.
    sku               TEXT,
    name              TEXT,
    description       TEXT,
    brand             TEXT,
    category          TEXT,
    attributes        TEXT,
    supplier          TEXT,
    status            TEXT NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'INACTIVE')),
    visibility        TEXT NOT NULL CHECK (visibility IN ('ALL', 'RESTRICTED')),
    cost_amount       INTEGER CHECK (cost_amount >= 0),
    cost_currency     TEXT CHECK (length(cost_currency) = 3),
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT,
    CHECK (master_product_id IS NOT NULL OR (sku IS NOT NULL AND name IS NOT NULL)),
    CHECK ((cost_amount IS NULL) = (cost_currency IS NULL))
);
CREATE UNIQUE INDEX listings_tenant_master ON listings (tenant_id, master_product_id);
CREATE INDEX listings_tenant_status ON listings (tenant_id, status);
CREATE INDEX listings_master ON listings (master_product_id);

CREATE TABLE listing_regions (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    listing_id TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    region     TEXT NOT NULL CHECK (region IN ('EU', 'NA', 'APAC')),
    PRIMARY KEY (tenant_id, listing_id, region)
);
CREATE INDEX listing_regions_region ON listing_regions (tenant_id, region, listing_id);

-- Assortments: a RESTRICTED listing is visible to exactly the customers named here.
CREATE TABLE listing_customers (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    listing_id  TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (tenant_id, listing_id, customer_id)
);
CREATE INDEX listing_customers_customer ON listing_customers (tenant_id, customer_id);

CREATE TABLE price_lists (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    region     TEXT NOT NULL CHECK (region IN ('EU', 'NA', 'APAC')),
    currency   TEXT NOT NULL CHECK (length(currency) = 3),
    priority   INTEGER NOT NULL DEFAULT 0,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    UNIQUE (tenant_id, name)
);
CREATE INDEX price_lists_tenant_region ON price_lists (tenant_id, region);

CREATE TABLE prices (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    price_list_id TEXT NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    listing_id    TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    min_quantity  INTEGER NOT NULL CHECK (min_quantity >= 1),
    amount        INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (tenant_id, price_list_id, listing_id, min_quantity)
);
CREATE INDEX prices_listing ON prices (tenant_id, listing_id);

-- Contract prices belong to the reseller (its commercial business) and name the customer.
CREATE TABLE contract_prices (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    customer_id TEXT NOT NULL REFERENCES tenants (id),
    listing_id  TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    UNIQUE (tenant_id, customer_id, listing_id)
);
CREATE INDEX contract_prices_listing ON contract_prices (tenant_id, listing_id);

-- Theme history: a change adds a version, the newest is in force.
CREATE TABLE themes (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    version    INTEGER NOT NULL CHECK (version >= 1),
    tokens     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE feature_flags (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    key        TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Append-only; `hash` chains each row to the previous row of the same tenant.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    seq          INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    actor_tenant TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before_state TEXT,
    after_state  TEXT,
    reason       TEXT,
    at           TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE processed_at IS NULL;
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);
