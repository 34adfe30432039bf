-- Search synonyms (issue 17): groups of words a reseller's catalog staff declared equivalent
-- (`setSearchSynonyms`), e.g. `akku, battery, accu`. Applied when a query is built, never
-- indexed, so a change needs no reindex. One row per reseller holding the whole set (a JSON
-- array of groups of words): it is read and replaced whole, and `version` guards concurrent
-- edits (`expectedVersion`).
CREATE TABLE search_synonyms (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    groups     TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON search_synonyms TO portico_app;
ALTER TABLE search_synonyms ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_synonyms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_fence ON search_synonyms FOR ALL
    USING (tenant_id = ANY ((SELECT portico_scope())::text[]))
    WITH CHECK (tenant_id = ANY ((SELECT portico_scope())::text[]));
-- A change moves the reseller's catalog version (migration data_versions): the synonyms are
-- cached under it (Store::search_synonym_table), and a cached search's key holds the synonyms
-- it applied.
CREATE TRIGGER search_synonyms_version AFTER INSERT OR UPDATE OR DELETE ON search_synonyms
    FOR EACH ROW EXECUTE FUNCTION data_versions_bump();
CREATE TRIGGER search_synonyms_version_truncate AFTER TRUNCATE ON search_synonyms
    FOR EACH STATEMENT EXECUTE FUNCTION data_versions_truncated();
