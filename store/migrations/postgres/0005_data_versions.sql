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
GRANT SELECT, INSERT, UPDATE ON data_versions TO portico_app;

CREATE FUNCTION data_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key text;
BEGIN
    IF TG_TABLE_NAME = 'master_products' THEN
        key := '*';
    ELSIF TG_TABLE_NAME IN ('users', 'role_assignments', 'identity_providers') THEN
        key := '@identity';
    ELSIF TG_OP = 'DELETE' THEN
        key := OLD.tenant_id;
    ELSE
        key := NEW.tenant_id;
    END IF;
    INSERT INTO data_versions (tenant_id, version) VALUES (key, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = data_versions.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER listings_version AFTER INSERT OR UPDATE OR DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER listing_regions_version AFTER INSERT OR UPDATE OR DELETE ON listing_regions
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER listing_customers_version AFTER INSERT OR UPDATE OR DELETE ON listing_customers
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER price_lists_version AFTER INSERT OR UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER prices_version AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER contract_prices_version AFTER INSERT OR UPDATE OR DELETE ON contract_prices
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER master_products_version AFTER INSERT OR UPDATE OR DELETE ON master_products
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER users_version AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER role_assignments_version AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER identity_providers_version AFTER INSERT OR UPDATE OR DELETE ON identity_providers
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
