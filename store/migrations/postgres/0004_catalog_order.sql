-- The catalog's order key: the listing's effective SKU (its override, else the master's),
-- kept in the row so a page walks an index in order and stops after one page instead of
-- sorting every listing of the reseller on every request.
ALTER TABLE listings ADD COLUMN sort_sku TEXT;
UPDATE listings l SET sort_sku = COALESCE(l.sku, (SELECT m.sku FROM master_products m WHERE m.id = l.master_product_id));
CREATE INDEX listings_tenant_sort ON listings (tenant_id, sort_sku, id);

CREATE FUNCTION listings_sort_sku() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sort_sku := COALESCE(NEW.sku, (SELECT m.sku FROM master_products m WHERE m.id = NEW.master_product_id));
    RETURN NEW;
END
$$;
CREATE TRIGGER listings_sort_sku BEFORE INSERT OR UPDATE OF sku, master_product_id ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_sort_sku();
