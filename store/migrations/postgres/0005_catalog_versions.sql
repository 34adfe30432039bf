-- Catalog versions: a counter per tenant that every write to the catalog's tables moves, in the
-- writer's own transaction, so a reader that saw version N and then read rows has rows at least
-- as new as N. Pages are cached under the version they were read at (Store::catalog_page); a
-- changed version is a miss. Triggers rather than application code: every write counts, the
-- demo seed's, a migration's and an operator's by hand included. Master products are shared by
-- every reseller's catalog: their writes move the '*' row, which every catalog version includes.
-- Counters only: no commercial data, no row-level fence.
CREATE TABLE catalog_versions (
    tenant_id TEXT PRIMARY KEY,
    version   BIGINT NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON catalog_versions TO portico_app;

CREATE FUNCTION catalog_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key text;
BEGIN
    IF TG_TABLE_NAME = 'master_products' THEN
        key := '*';
    ELSIF TG_OP = 'DELETE' THEN
        key := OLD.tenant_id;
    ELSE
        key := NEW.tenant_id;
    END IF;
    INSERT INTO catalog_versions (tenant_id, version) VALUES (key, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = catalog_versions.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER listings_version AFTER INSERT OR UPDATE OR DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER listing_regions_version AFTER INSERT OR UPDATE OR DELETE ON listing_regions
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER listing_customers_version AFTER INSERT OR UPDATE OR DELETE ON listing_customers
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER price_lists_version AFTER INSERT OR UPDATE OR DELETE ON price_lists
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER prices_version AFTER INSERT OR UPDATE OR DELETE ON prices
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER contract_prices_version AFTER INSERT OR UPDATE OR DELETE ON contract_prices
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
CREATE TRIGGER master_products_version AFTER INSERT OR UPDATE OR DELETE ON master_products
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_bump();
