-- Customers administered by their reseller (issue 16): a customer can be suspended (its users
-- are refused at sign-in and on every request until it is resumed), and changes to a tenant
-- carry a version for optimistic concurrency.
ALTER TABLE tenants ADD COLUMN suspended_at TEXT;
ALTER TABLE tenants ADD COLUMN suspended_reason TEXT;
ALTER TABLE tenants ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- `@directory`: tenants and their portal hosts, everywhere. The server keeps the directory in
-- memory (web/src/portal.rs) and reloads it when this version moves, so a new, renamed or
-- suspended tenant is seen by the very next request, however it was written (the API, the
-- seed, an operator by hand).
CREATE TRIGGER tenants_directory_version_insert AFTER INSERT ON tenants
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
CREATE TRIGGER tenants_directory_version_update AFTER UPDATE ON tenants
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
CREATE TRIGGER tenants_directory_version_delete AFTER DELETE ON tenants
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
CREATE TRIGGER domains_directory_version_insert AFTER INSERT ON domains
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
CREATE TRIGGER domains_directory_version_update AFTER UPDATE ON domains
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
CREATE TRIGGER domains_directory_version_delete AFTER DELETE ON domains
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT '@directory', 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = '@directory');
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = '@directory';
END;
