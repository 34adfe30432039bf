-- Catalog versions: a counter per tenant that every write to the catalog's tables moves, in the
-- writer's own transaction, so a reader that saw version N and then read rows has rows at least
-- as new as N. Pages are cached under the version they were read at (Store::catalog_page); a
-- changed version is a miss. Triggers rather than application code: every write counts, the
-- demo seed's, a migration's and an operator's by hand included. Master products are shared by
-- every reseller's catalog: their writes move the '*' row, which every catalog version includes.
-- Counters only: no commercial data, no row-level fence. No `INSERT OR IGNORE` in the triggers:
-- an outer statement's conflict clause (an upsert's) would replace the trigger's own.
CREATE TABLE catalog_versions (
    tenant_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL
);
CREATE TRIGGER listings_version_insert AFTER INSERT ON listings
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listings_version_update AFTER UPDATE ON listings
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listings_version_delete AFTER DELETE ON listings
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER listing_regions_version_insert AFTER INSERT ON listing_regions
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_regions_version_update AFTER UPDATE ON listing_regions
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_regions_version_delete AFTER DELETE ON listing_regions
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER listing_customers_version_insert AFTER INSERT ON listing_customers
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_customers_version_update AFTER UPDATE ON listing_customers
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER listing_customers_version_delete AFTER DELETE ON listing_customers
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER price_lists_version_insert AFTER INSERT ON price_lists
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER price_lists_version_update AFTER UPDATE ON price_lists
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER price_lists_version_delete AFTER DELETE ON price_lists
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER prices_version_insert AFTER INSERT ON prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER prices_version_update AFTER UPDATE ON prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER prices_version_delete AFTER DELETE ON prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER contract_prices_version_insert AFTER INSERT ON contract_prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER contract_prices_version_update AFTER UPDATE ON contract_prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER contract_prices_version_delete AFTER DELETE ON contract_prices
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
CREATE TRIGGER master_products_version_insert AFTER INSERT ON master_products
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = '*');
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = '*';
END;
CREATE TRIGGER master_products_version_update AFTER UPDATE ON master_products
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = '*');
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = '*';
END;
CREATE TRIGGER master_products_version_delete AFTER DELETE ON master_products
BEGIN
    INSERT INTO catalog_versions (tenant_id, version)
        SELECT '*', 0 WHERE NOT EXISTS (SELECT 1 FROM catalog_versions WHERE tenant_id = '*');
    UPDATE catalog_versions SET version = version + 1 WHERE tenant_id = '*';
END;
