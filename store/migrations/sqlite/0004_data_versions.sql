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
-- No `INSERT OR IGNORE` in the triggers: an outer statement's conflict clause (an upsert's)
-- would replace the trigger's own. An update bumps the old tenant too (a row moved by hand).
CREATE TABLE data_versions (
    tenant_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL
);
CREATE TRIGGER listings_version_insert AFTER INSERT ON listings
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listings_version_update AFTER UPDATE ON listings
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER listings_version_delete AFTER DELETE ON listings
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER listing_regions_version_insert AFTER INSERT ON listing_regions
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_regions_version_update AFTER UPDATE ON listing_regions
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER listing_regions_version_delete AFTER DELETE ON listing_regions
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER listing_customers_version_insert AFTER INSERT ON listing_customers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_customers_version_update AFTER UPDATE ON listing_customers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER listing_customers_version_delete AFTER DELETE ON listing_customers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER price_lists_version_insert AFTER INSERT ON price_lists
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER price_lists_version_update AFTER UPDATE ON price_lists
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER price_lists_version_delete AFTER DELETE ON price_lists
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER prices_version_insert AFTER INSERT ON prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER prices_version_update AFTER UPDATE ON prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER prices_version_delete AFTER DELETE ON prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER contract_prices_version_insert AFTER INSERT ON contract_prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER contract_prices_version_update AFTER UPDATE ON contract_prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER contract_prices_version_delete AFTER DELETE ON contract_prices
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER master_products_version_insert AFTER INSERT ON master_products
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '*');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '*';
END;
CREATE TRIGGER master_products_version_update AFTER UPDATE ON master_products
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '*');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '*';
END;
CREATE TRIGGER master_products_version_delete AFTER DELETE ON master_products
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '*');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '*';
END;
CREATE TRIGGER users_version_insert AFTER INSERT ON users
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER users_version_update AFTER UPDATE ON users
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER users_version_delete AFTER DELETE ON users
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER role_assignments_version_insert AFTER INSERT ON role_assignments
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER role_assignments_version_update AFTER UPDATE ON role_assignments
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER role_assignments_version_delete AFTER DELETE ON role_assignments
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER identity_providers_version_insert AFTER INSERT ON identity_providers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER identity_providers_version_update AFTER UPDATE ON identity_providers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
CREATE TRIGGER identity_providers_version_delete AFTER DELETE ON identity_providers
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@identity', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@identity');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@identity';
END;
