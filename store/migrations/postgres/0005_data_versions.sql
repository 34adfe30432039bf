-- Data versions: counters that every write to the tables behind Portico's read caches moves,
-- in the writer's own transaction, so a reader that saw version N and then read rows has rows
-- at least as new as N. Triggers rather than application code: every write counts, the demo
-- seed's, a migration's and an operator's by hand included.
--
-- * `<tenant id>`: that reseller's catalog (listings, regions, assortments, price lists, prices,
--   contract prices). Catalog pages are cached under it (Store::catalog_page).
-- * `*`: the master catalog, shared by every reseller's catalog, so part of every catalog version.
-- * `@identity`: users, their roles and identity providers, everywhere. Callers and providers are
--   cached under it (web/src/auth): a deactivation or a role change is seen by the next request.
--
-- Counters only: no commercial data, no row-level fence. One statement reads all a request needs
-- (Store::versions).
CREATE TABLE data_versions (
    tenant_id TEXT PRIMARY KEY,
    version   BIGINT NOT NULL
);
-- The application reads the counters; only the triggers' functions (SECURITY DEFINER, owned by
-- the migrations' role, with a fixed search_path so no temporary table can stand in) move them.
GRANT SELECT ON data_versions TO portico_app;

CREATE FUNCTION data_versions_bump() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    keys text[];
BEGIN
    IF TG_TABLE_NAME = 'master_products' THEN
        keys := ARRAY['*'];
    ELSIF TG_TABLE_NAME IN ('users', 'role_assignments', 'identity_providers') THEN
        keys := ARRAY['@identity'];
    ELSIF TG_OP = 'DELETE' THEN
        keys := ARRAY[OLD.tenant_id];
    ELSIF TG_OP = 'UPDATE' AND OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
        -- A row moved by hand: both catalogs changed.
        keys := ARRAY[OLD.tenant_id, NEW.tenant_id];
    ELSE
        keys := ARRAY[NEW.tenant_id];
    END IF;
    -- In key order, so two writers bumping the same keys never wait on each other in a cycle.
    INSERT INTO public.data_versions (tenant_id, version)
        SELECT k, 1 FROM unnest(keys) AS k ORDER BY k
        ON CONFLICT (tenant_id) DO UPDATE SET version = public.data_versions.version + 1;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row trigger: it moves the shared keys, which every version includes.
CREATE FUNCTION data_versions_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO public.data_versions (tenant_id, version)
        VALUES (CASE WHEN TG_TABLE_NAME IN ('users', 'role_assignments', 'identity_providers')
                     THEN '@identity' ELSE '*' END, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = public.data_versions.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER listings_version AFTER INSERT OR UPDATE OR DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER listings_version_truncate AFTER TRUNCATE ON listings
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER listing_regions_version AFTER INSERT OR UPDATE OR DELETE ON listing_regions
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER listing_regions_version_truncate AFTER TRUNCATE ON listing_regions
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER listing_customers_version AFTER INSERT OR UPDATE OR DELETE ON listing_customers
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER listing_customers_version_truncate AFTER TRUNCATE ON listing_customers
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER price_lists_version AFTER INSERT OR UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER price_lists_version_truncate AFTER TRUNCATE ON price_lists
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER prices_version AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER prices_version_truncate AFTER TRUNCATE ON prices
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER contract_prices_version AFTER INSERT OR UPDATE OR DELETE ON contract_prices
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER contract_prices_version_truncate AFTER TRUNCATE ON contract_prices
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER master_products_version AFTER INSERT OR UPDATE OR DELETE ON master_products
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER master_products_version_truncate AFTER TRUNCATE ON master_products
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER users_version AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER users_version_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER role_assignments_version AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER role_assignments_version_truncate AFTER TRUNCATE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
CREATE TRIGGER identity_providers_version AFTER INSERT OR UPDATE OR DELETE ON identity_providers
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER identity_providers_version_truncate AFTER TRUNCATE ON identity_providers
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
