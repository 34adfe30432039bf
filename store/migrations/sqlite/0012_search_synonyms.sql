-- Search synonyms (issue 17): groups of words a reseller's catalog staff declared equivalent
-- (`setSearchSynonyms`), e.g. `akku, battery, accu`. Applied when a query is built, never
-- indexed, so a change needs no reindex. One row per reseller holding the whole set (a JSON
-- array of groups of words): it is read and replaced whole, and `version` guards concurrent
-- edits (`expectedVersion`).
CREATE TABLE search_synonyms (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    groups     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
-- A change moves the reseller's catalog version (migration data_versions): the synonyms are
-- cached under it (Store::search_synonym_table), and a cached search's key holds the synonyms
-- it applied.
CREATE TRIGGER search_synonyms_version_insert AFTER INSERT ON search_synonyms
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER search_synonyms_version_update AFTER UPDATE ON search_synonyms
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = NEW.tenant_id);
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id IN (NEW.tenant_id, OLD.tenant_id);
END;
CREATE TRIGGER search_synonyms_version_delete AFTER DELETE ON search_synonyms
BEGIN
    INSERT INTO data_versions (tenant_id, version)
        SELECT OLD.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM data_versions WHERE tenant_id = OLD.tenant_id);
    UPDATE data_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
