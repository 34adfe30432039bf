# A baseline for the catalog benchmark only: every decision allowed, through the same engine,
# cache and enforcement as the real policy. Never deploy it.
allow(actor: Caller, action: String, resource: Object) if
    decide(actor, action, resource, _reason);

decide(_actor: Caller, _action: String, _resource: Object, "allow-all benchmark baseline");

allow_field(actor: Caller, action: String, resource: Object, field: String) if
    field_rule(actor, action, resource, field, _reason);

field_rule(_actor: Caller, _action: String, _resource: Object, field: String, "allow-all benchmark baseline") if
    field in ["id", "sku", "name", "description", "brand", "category", "regions", "status",
              "visibility", "version", "price", "listPrice", "costPrice", "margin", "supplier",
              "users", "contractPrices", "slug", "kind", "region", "email", "reseller",
              "customer", "scopes", "expiresAt"];
