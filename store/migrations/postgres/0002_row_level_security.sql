-- The third fence (DESIGN section 3): even a query that forgets its tenant predicate sees only the
-- tenants of the request's scope.
--
-- * The application runs as `portico_app`: not the owner of any table, no BYPASSRLS.
-- * Every tenant table has FORCE ROW LEVEL SECURITY, so not even the owner skips the policies
--   (superusers still do: migrations and the demo seed run as the owner connection).
-- * The scope is set per transaction with set_config('app.tenant_ids', '<id>,<id>', true) and is
--   gone at COMMIT/ROLLBACK, so a pooled connection carries nothing into its next transaction.
--   No scope means no rows.
-- * Policies call portico_scope() inside a sub-select so PostgreSQL evaluates it once per
--   statement (an InitPlan), not once per row.

DO $$
BEGIN
    CREATE ROLE portico_app NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    -- The role is cluster-wide; another database of this cluster created it already.
    NULL;
END
$$;

CREATE FUNCTION portico_scope() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT string_to_array(nullif(current_setting('app.tenant_ids', true), ''), ',') $$;

GRANT USAGE ON SCHEMA public TO portico_app;
GRANT EXECUTE ON FUNCTION portico_scope() TO portico_app;
GRANT SELECT ON portico_meta, _sqlx_migrations TO portico_app;
GRANT SELECT, INSERT, UPDATE ON tenants, domains, identity_providers, users, role_assignments,
    delegations, master_products, listings, price_lists, contract_prices, feature_flags, outbox
    TO portico_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON listing_regions, listing_customers, prices, role_assignments
    TO portico_app;
-- History and audit are append-only for the application.
GRANT SELECT, INSERT ON themes, audit_log TO portico_app;

-- The directory (tenants, their hosts and identity providers) is readable by every scope: the
-- tenant of a request is resolved from its Host before any scope exists, and relations are
-- computed from the whole tree in memory. It holds names and hosts, nothing commercial.
-- Writes stay fenced.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON tenants FOR SELECT USING (true);
CREATE POLICY tenant_write ON tenants FOR UPDATE
    USING (id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (id = ANY ((SELECT portico_scope())::text[]));
CREATE POLICY tenant_insert ON tenants FOR INSERT
    WITH CHECK (parent_id = ANY ((SELECT portico_scope())::text[]));

ALTER TABLE domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE domains FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON domains FOR SELECT USING (true);
CREATE POLICY tenant_write ON domains FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]));

ALTER TABLE identity_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON identity_providers FOR SELECT USING (true);
CREATE POLICY tenant_write ON identity_providers FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]));

-- The master catalog is the platform's and shared with every reseller that may list from it;
-- it is readable under any scope, writable only by the platform.
ALTER TABLE master_products ENABLE ROW LEVEL SECURITY;
ALTER TABLE master_products FORCE ROW LEVEL SECURITY;
CREATE POLICY catalog_read ON master_products FOR SELECT
    USING ((SELECT portico_scope()) IS NOT NULL);
CREATE POLICY tenant_write ON master_products FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]));

-- Plain tenant tables: the owner must be in scope.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'role_assignments', 'listings', 'listing_regions',
        'price_lists', 'prices', 'themes', 'feature_flags', 'audit_log', 'outbox']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_fence ON %I FOR ALL
            USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
            WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]))', t);
    END LOOP;
END
$$;

-- Reseller-owned rows about one customer: the reseller's scope sees all of its customers' rows,
-- a customer's scope (its own tenant and its reseller) sees only its own, never a sibling's.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['contract_prices', 'listing_customers']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_fence ON %I FOR ALL
            USING (tenant_id = ANY ((SELECT portico_scope())::text[])
                   AND customer_id = ANY ((SELECT portico_scope())::text[]))
            WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[])
                   AND customer_id = ANY ((SELECT portico_scope())::text[]))', t);
    END LOOP;
END
$$;

-- A grant is seen by both parties: the customer that gives it and the reseller that holds it.
ALTER TABLE delegations ENABLE ROW LEVEL SECURITY;
ALTER TABLE delegations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON delegations FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]) OR reseller_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]) OR reseller_id = ANY ((SELECT portico_scope())::text[]));
