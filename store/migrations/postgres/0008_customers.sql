-- Customers administered by their reseller (issue 16): a customer can be suspended (its users
-- are refused at sign-in and on every request until it is resumed), and changes to a tenant
-- carry a version for optimistic concurrency. `portico_app` already inserts and updates
-- tenants (migration row_level_security): inserts only under a parent in the transaction's
-- scope, updates only of tenants in it; every scope reads the directory.
ALTER TABLE tenants ADD COLUMN suspended_at TIMESTAMPTZ;
ALTER TABLE tenants ADD COLUMN suspended_reason TEXT;
ALTER TABLE tenants ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE tenants ADD CONSTRAINT tenants_suspension
    CHECK ((suspended_at IS NULL) = (suspended_reason IS NULL));

-- `@directory`: tenants and their portal hosts, everywhere. The server keeps the directory in
-- memory (web/src/portal.rs) and reloads it when this version moves, so a new, renamed or
-- suspended tenant is seen by the very next request, however it was written (the API, the
-- seed, an operator by hand). One key, so statement triggers suffice (TRUNCATE included).
CREATE FUNCTION directory_version_bump() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO public.data_versions (tenant_id, version) VALUES ('@directory', 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = public.data_versions.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_directory_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump();
CREATE TRIGGER domains_directory_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump();
