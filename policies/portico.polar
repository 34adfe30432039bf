# Portico's authorization policy: the one place where allow and deny are decided.
#
# Rust computes facts (see policies/src/facts.rs) and enforces decisions; it never decides.
# (Polar classes: Caller for the actor and Object for the resource; Oso reserves Actor and
# Resource.)
#   actor:    signed_in, tenant_kind (PLATFORM | RESELLER | CUSTOMER | NONE), roles, regions
#   resource: kind (portal | tenant | customer | user | delegation | product | audit | support |
#             service_account | settings: a tenant's settings, a customer's name and contacts),
#             relation of the resource's
#             tenant to the actor's (SELF | SAME | OWN_CUSTOMER | OWN_RESELLER | PLATFORM_SCOPE |
#             UNRELATED), region ("" when none), visibility (ALL | GRANTED_TO_ME | NOT_GRANTED),
#             delegated_scopes (the delegated scopes the actor's tenant holds, active and unexpired, on the
#             resource's tenant: USER_ADMIN | SETTINGS_ADMIN | SUPPORT_READONLY), owner_kind,
#             live (a product: the listing is ACTIVE; everything else: true), support_window
#             (the caller holds an open support window on the resource's tenant: only platform
#             staff open them, for a time and with a reason; for kind support, relation SELF is
#             a window the caller opened).
#             For a product, region is the caller's tenant region when the listing is sold
#             there ("" otherwise), and visibility is ALL, GRANTED_TO_ME (a restricted listing
#             whose assortment names the caller's tenant) or NOT_GRANTED.
#   action:   read | request | approve | decline | revoke | update | price | manage | assign |
#             create | suspend | open
#             (manage: invite, change the roles of, deactivate or reactivate a user; assign: hand
#             out a role, named by the field; create: a customer, whose facts are those it will
#             have, under the actor's tenant; suspend: suspend or resume a customer; open: a
#             support window)
#
# Platform staff see the directory (tenants' and customers' profiles, domains, delegations)
# and nothing inside a tenant unless they hold a support window on it: then they read that
# tenant's catalog and prices (a reseller), users and contract prices (a customer), users and
# audit log (any tenant). A window never allows a change: no update, price or manage rule
# mentions support_window.
#
# Every rule names its reason: decide(actor, action, resource, reason) and
# field_rule(actor, action, resource, field, reason). Nothing here mentions a tenant id: the
# same facts always get the same answer, which is what makes the decision cache exact.

allow(actor: Caller, action: String, resource: Object) if
    decide(actor, action, resource, _reason);

allow_field(actor: Caller, action: String, resource: Object, field: String) if
    field_rule(actor, action, resource, field, _reason);

# ---------------------------------------------------------------- helpers

has_role(actor: Caller, role: String) if role in actor.roles;

# Reseller staff who may see a customer of their reseller: sales reps only in their regions.
reads_customer(actor: Caller, _resource: Object) if has_role(actor, "reseller_admin");
reads_customer(actor: Caller, _resource: Object) if has_role(actor, "support");
reads_customer(actor: Caller, _resource: Object) if has_role(actor, "pricing_manager");
reads_customer(actor: Caller, resource: Object) if
    has_role(actor, "sales_rep") and resource.region in actor.regions;

# A customer's users: its own admins; the reseller's admins with USER_ADMIN; the reseller's
# admins and support with SUPPORT_READONLY. Delegations count only while active and unexpired, and
# only for the reseller that holds them (Rust puts nothing else into resource.delegated_scopes).
reads_customer_users(actor: Caller, resource: Object, "customer admins read their own tenant's users") if
    resource.relation = "SAME" and has_role(actor, "customer_admin");
reads_customer_users(actor: Caller, resource: Object, "USER_ADMIN lets the reseller's admins read the customer's users") if
    resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin") and
    "USER_ADMIN" in resource.delegated_scopes;
reads_customer_users(actor: Caller, resource: Object, "SUPPORT_READONLY lets the reseller's admins and support read the customer's users") if
    resource.relation = "OWN_CUSTOMER" and "SUPPORT_READONLY" in resource.delegated_scopes and
    (has_role(actor, "reseller_admin") or has_role(actor, "support"));

# Platform admins inside a support window they opened on the resource's tenant (read only).
in_support_window(actor: Caller, resource: Object) if
    resource.relation = "PLATFORM_SCOPE" and resource.support_window = true and
    has_role(actor, "platform_admin");

# ---------------------------------------------------------------- portal

decide(_actor: Caller, "read", resource: Object, "a portal's public profile is public") if
    resource.kind = "portal";

# ---------------------------------------------------------------- tenants

decide(actor: Caller, "read", resource: Object, "users read their own tenant") if
    resource.kind = "tenant" and resource.relation = "SAME" and actor.signed_in = true;
decide(actor: Caller, "read", resource: Object, "customers' users read their reseller's profile") if
    resource.kind = "tenant" and resource.relation = "OWN_RESELLER" and actor.signed_in = true;
decide(actor: Caller, "read", resource: Object, "reseller staff read their customers' profiles (sales reps: in their regions)") if
    resource.kind = "tenant" and resource.relation = "OWN_CUSTOMER" and reads_customer(actor, resource);
decide(actor: Caller, "read", resource: Object, "platform admins read every tenant's profile") if
    resource.kind = "tenant" and resource.relation = "PLATFORM_SCOPE" and has_role(actor, "platform_admin");

field_rule(actor: Caller, "read", resource: Object, field: String, "a readable tenant's profile") if
    resource.kind = "tenant" and field in ["id", "slug", "name", "kind", "region"] and
    allow(actor, "read", resource);

# ---------------------------------------------------------------- customers

decide(actor: Caller, "read", resource: Object, "reseller staff read their own customers (sales reps: in their regions)") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and reads_customer(actor, resource);
decide(actor: Caller, "read", resource: Object, "customer admins read their own customer record") if
    resource.kind = "customer" and resource.relation = "SAME" and has_role(actor, "customer_admin");
decide(actor: Caller, "read", resource: Object, "platform admins read every customer") if
    resource.kind = "customer" and resource.relation = "PLATFORM_SCOPE" and has_role(actor, "platform_admin");

field_rule(actor: Caller, "read", resource: Object, field: String, "a readable customer's profile") if
    resource.kind = "customer" and
    field in ["id", "slug", "name", "region", "status", "suspended", "suspendedAt", "suspendedReason", "version"] and
    allow(actor, "read", resource);

# Administering customers: a reseller's admins create customers under their own reseller, change
# their name and region, and suspend and resume them (a suspended customer's users are refused at
# sign-in and on every request; its reseller's staff still see it).
decide(actor: Caller, "create", resource: Object, "reseller admins create customers under their own reseller") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");
decide(actor: Caller, "update", resource: Object, "reseller admins change their own customers' name and region") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");
decide(actor: Caller, "suspend", resource: Object, "reseller admins suspend and resume their own customers") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");
field_rule(actor: Caller, "read", resource: Object, "users", reason) if
    resource.kind = "customer" and reads_customer_users(actor, resource, reason);
field_rule(actor: Caller, "read", resource: Object, "users", "inside a support window, platform admins read the customer's users") if
    resource.kind = "customer" and in_support_window(actor, resource);

# ---------------------------------------------------------------- settings
# A tenant's settings: a customer's name and contacts (later its theme and feature flags). Its
# own admin changes them (updateCustomerSettings); so do the reseller's admins while the
# customer delegates SETTINGS_ADMIN to them, through the same operation, naming the customer.
# Who reads them: the tenant's own admins, the reseller's staff who read the customer (which
# covers SUPPORT_READONLY's "the reseller's admins and support read its settings": they read
# them anyway), and platform admins inside a support window. A window never changes them.

decide(actor: Caller, "read", resource: Object, "a tenant's admins read their own tenant's settings") if
    resource.kind = "settings" and resource.relation = "SAME" and admin_of_kind(actor, resource.owner_kind);
decide(actor: Caller, "read", resource: Object, "reseller staff read their customers' settings (sales reps: in their regions)") if
    resource.kind = "settings" and resource.relation = "OWN_CUSTOMER" and reads_customer(actor, resource);
decide(actor: Caller, "read", resource: Object, "inside a support window, platform admins read the tenant's settings") if
    resource.kind = "settings" and in_support_window(actor, resource);

field_rule(actor: Caller, "read", resource: Object, field: String, "readable settings") if
    resource.kind = "settings" and field in ["name", "contactEmail", "contactPhone", "version"] and
    allow(actor, "read", resource);

decide(actor: Caller, "update", resource: Object, "customer admins change their own tenant's settings") if
    resource.kind = "settings" and resource.relation = "SAME" and resource.owner_kind = "CUSTOMER" and
    has_role(actor, "customer_admin");
decide(actor: Caller, "update", resource: Object, "SETTINGS_ADMIN lets the reseller's admins change the customer's settings") if
    resource.kind = "settings" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin") and
    "SETTINGS_ADMIN" in resource.delegated_scopes;

# ---------------------------------------------------------------- users

decide(_actor: Caller, "read", resource: Object, "everyone reads themselves") if
    resource.kind = "user" and resource.relation = "SELF";
decide(actor: Caller, "read", resource: Object, "admins read the users of their own tenant") if
    resource.kind = "user" and resource.relation = "SAME" and
    (has_role(actor, "customer_admin") or has_role(actor, "reseller_admin") or has_role(actor, "platform_admin"));
decide(actor: Caller, "read", resource: Object, reason) if
    resource.kind = "user" and resource.relation = "OWN_CUSTOMER" and
    reads_customer_users(actor, resource, reason);
decide(actor: Caller, "read", resource: Object, "inside a support window, platform admins read the tenant's users") if
    resource.kind = "user" and in_support_window(actor, resource);

field_rule(actor: Caller, "read", resource: Object, field: String, "a readable user's profile") if
    resource.kind = "user" and field in ["id", "email", "name", "status", "roles", "regions", "version"] and
    allow(actor, "read", resource);

# Managing users (invite, change roles, deactivate, reactivate). The resource is a user of the
# target tenant; SELF never matches, so nobody manages themselves (their own roles least of all).
decide(actor: Caller, "manage", resource: Object, "admins manage the users of their own tenant") if
    resource.kind = "user" and resource.relation = "SAME" and admin_of_kind(actor, resource.owner_kind);
decide(actor: Caller, "manage", resource: Object, "USER_ADMIN lets the reseller's admins manage the customer's users") if
    resource.kind = "user" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin") and
    "USER_ADMIN" in resource.delegated_scopes;

# Role ceilings: a role is handed out (field = the role) only in a tenant of its kind and only by
# someone who may manage that user and could hold the role themselves; under USER_ADMIN, never
# above customer_admin.
field_rule(actor: Caller, "assign", resource: Object, role: String, "admins hand out the roles of their own kind of tenant") if
    resource.relation = "SAME" and role_of_kind(role, resource.owner_kind) and
    allow(actor, "manage", resource);
field_rule(actor: Caller, "assign", resource: Object, role: String, "USER_ADMIN hands out customer roles, never above customer_admin") if
    resource.relation = "OWN_CUSTOMER" and resource.owner_kind = "CUSTOMER" and
    role_of_kind(role, "CUSTOMER") and allow(actor, "manage", resource);

# ---------------------------------------------------------------- service accounts
# Integration credentials (a tenant's ERP connectors) are their own tenant's business: its
# admins see, create, rotate and delete them; no delegation or support window reaches them.
# Roles handed to an account follow the `assign` rules above (roles of the tenant's kind, by
# someone who may manage it).
decide(actor: Caller, "read", resource: Object, "admins see their own tenant's service accounts") if
    resource.kind = "service_account" and resource.relation = "SAME" and
    admin_of_kind(actor, resource.owner_kind);
decide(actor: Caller, "manage", resource: Object, "admins create, rotate and delete their own tenant's service accounts") if
    resource.kind = "service_account" and resource.relation = "SAME" and
    admin_of_kind(actor, resource.owner_kind);

admin_of_kind(actor: Caller, "PLATFORM") if has_role(actor, "platform_admin");
admin_of_kind(actor: Caller, "RESELLER") if has_role(actor, "reseller_admin");
admin_of_kind(actor: Caller, "CUSTOMER") if has_role(actor, "customer_admin");

role_of_kind(role: String, "PLATFORM") if role in ["platform_admin"];
role_of_kind(role: String, "RESELLER") if role in ["reseller_admin", "pricing_manager", "sales_rep", "support"];
role_of_kind(role: String, "CUSTOMER") if role in ["customer_admin", "buyer", "viewer"];

# ---------------------------------------------------------------- delegations
# A delegation's tenant is its customer: relation SAME is the granting customer, OWN_CUSTOMER
# the reseller it was granted to.

decide(actor: Caller, "read", resource: Object, "customer admins see the delegations their tenant gave") if
    resource.kind = "delegation" and resource.relation = "SAME" and has_role(actor, "customer_admin");
decide(actor: Caller, "read", resource: Object, "reseller admins and support see the delegations their customers gave them") if
    resource.kind = "delegation" and resource.relation = "OWN_CUSTOMER" and
    (has_role(actor, "reseller_admin") or has_role(actor, "support"));
decide(actor: Caller, "read", resource: Object, "platform admins see every delegation") if
    resource.kind = "delegation" and resource.relation = "PLATFORM_SCOPE" and has_role(actor, "platform_admin");

decide(actor: Caller, "request", resource: Object, "reseller admins ask their own customers for delegations") if
    resource.kind = "delegation" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");
decide(actor: Caller, "approve", resource: Object, "customer admins approve delegations of their own tenant") if
    resource.kind = "delegation" and resource.relation = "SAME" and has_role(actor, "customer_admin");
decide(actor: Caller, "decline", resource: Object, "customer admins decline delegations asked of their own tenant") if
    resource.kind = "delegation" and resource.relation = "SAME" and has_role(actor, "customer_admin");
decide(actor: Caller, "manage", resource: Object, "reseller admins assign the delegations they hold to named staff") if
    resource.kind = "delegation" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");
decide(actor: Caller, "revoke", resource: Object, "customer admins revoke delegations of their own tenant") if
    resource.kind = "delegation" and resource.relation = "SAME" and has_role(actor, "customer_admin");
decide(actor: Caller, "revoke", resource: Object, "reseller admins give back delegations they hold") if
    resource.kind = "delegation" and resource.relation = "OWN_CUSTOMER" and has_role(actor, "reseller_admin");

field_rule(actor: Caller, "read", resource: Object, field: String, "a readable delegation") if
    resource.kind = "delegation" and
    field in ["id", "reseller", "customer", "scopes", "status", "expiresAt", "requestedAt", "approvedAt",
              "endsAt", "endedAt", "endedBy", "message", "autoExtend", "assignees"] and
    allow(actor, "read", resource);

# ---------------------------------------------------------------- products (listings)
# A product's tenant is the reseller that lists it.

decide(actor: Caller, "read", resource: Object, "reseller staff read their own catalog, every status") if
    resource.kind = "product" and resource.relation = "SAME" and actor.tenant_kind = "RESELLER";
decide(actor: Caller, "read", resource: Object, "customers read their reseller's active listings sold in their region and visible to them") if
    resource.kind = "product" and resource.relation = "OWN_RESELLER" and resource.live = true and
    resource.region in actor.regions and
    (resource.visibility = "ALL" or resource.visibility = "GRANTED_TO_ME");
decide(actor: Caller, "read", resource: Object, "inside a support window, platform admins read the reseller's catalog, every status") if
    resource.kind = "product" and in_support_window(actor, resource);

field_rule(actor: Caller, "read", resource: Object, field: String, "a readable product's description") if
    resource.kind = "product" and
    field in ["id", "sku", "name", "description", "brand", "category", "regions", "status", "visibility", "version"] and
    allow(actor, "read", resource);

# Prices: customers' admins and buyers see their own net price and the list price; viewers see
# no prices at all; reseller admins, pricing managers and sales reps see list prices.
sees_prices(actor: Caller, resource: Object) if
    resource.relation = "OWN_RESELLER" and
    (has_role(actor, "customer_admin") or has_role(actor, "buyer"));
sees_prices(actor: Caller, resource: Object) if
    resource.relation = "SAME" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager") or has_role(actor, "sales_rep"));

field_rule(actor: Caller, "read", resource: Object, field: String, "buyers, customer admins and pricing staff see prices") if
    resource.kind = "product" and field in ["price", "listPrice"] and
    allow(actor, "read", resource) and sees_prices(actor, resource);

# Cost, margin and supplier: never customers, never sales reps.
field_rule(actor: Caller, "read", resource: Object, field: String, "reseller admins and pricing managers see everything of their own listings") if
    resource.kind = "product" and field in ["costPrice", "margin", "supplier"] and
    resource.relation = "SAME" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager"));

field_rule(actor: Caller, "read", resource: Object, field: String, "inside a support window, platform admins read the reseller's list prices, costs, margins and suppliers") if
    resource.kind = "product" and field in ["listPrice", "costPrice", "margin", "supplier"] and
    in_support_window(actor, resource) and allow(actor, "read", resource);

decide(actor: Caller, "update", resource: Object, "reseller admins and pricing managers manage their own listings") if
    resource.kind = "product" and resource.relation = "SAME" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager"));

decide(actor: Caller, "price", resource: Object, "reseller admins and pricing managers manage their own price lists") if
    resource.kind = "product" and resource.relation = "SAME" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager"));

# ---------------------------------------------------------------- contract prices
# A customer's contract prices belong to its reseller's business.

decide(actor: Caller, "price", resource: Object, "reseller admins and pricing managers set their own customers' contract prices") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager"));

field_rule(actor: Caller, "read", resource: Object, "contractPrices", "pricing staff see their own customers' contract prices (sales reps: in their regions)") if
    resource.kind = "customer" and resource.relation = "OWN_CUSTOMER" and
    (has_role(actor, "reseller_admin") or has_role(actor, "pricing_manager") or
     (has_role(actor, "sales_rep") and resource.region in actor.regions));
field_rule(actor: Caller, "read", resource: Object, "contractPrices", "customer admins see their own contract prices") if
    resource.kind = "customer" and resource.relation = "SAME" and has_role(actor, "customer_admin");
field_rule(actor: Caller, "read", resource: Object, "contractPrices", "inside a support window, platform admins read the customer's contract prices") if
    resource.kind = "customer" and in_support_window(actor, resource);

# ---------------------------------------------------------------- audit log
# An audit log's tenant is the tenant whose chain it is. What a reseller does in a customer
# (asking for a delegation, acting under one) is written in the customer's chain, so the
# customer reads it in its own log. Platform admins read other tenants' logs only inside a
# support window.

decide(actor: Caller, "read", resource: Object, "customer admins read their own tenant's audit log") if
    resource.kind = "audit" and resource.relation = "SAME" and resource.owner_kind = "CUSTOMER" and
    has_role(actor, "customer_admin");
decide(actor: Caller, "read", resource: Object, "reseller admins read their own tenant's audit log") if
    resource.kind = "audit" and resource.relation = "SAME" and resource.owner_kind = "RESELLER" and
    has_role(actor, "reseller_admin");
decide(actor: Caller, "read", resource: Object, "platform admins read the platform's own audit log") if
    resource.kind = "audit" and resource.relation = "SAME" and resource.owner_kind = "PLATFORM" and
    has_role(actor, "platform_admin");
decide(actor: Caller, "read", resource: Object, "SUPPORT_READONLY lets the reseller's admins and support read the customer's audit log") if
    resource.kind = "audit" and resource.relation = "OWN_CUSTOMER" and
    "SUPPORT_READONLY" in resource.delegated_scopes and
    (has_role(actor, "reseller_admin") or has_role(actor, "support"));
decide(actor: Caller, "read", resource: Object, "inside a support window, platform admins read the tenant's audit log") if
    resource.kind = "audit" and in_support_window(actor, resource);

# ---------------------------------------------------------------- support windows
# A support window's tenant is the tenant looked at; relation SELF is a window the caller
# opened. Opening and ending one is written in that tenant's audit log and the platform's.

decide(actor: Caller, "open", resource: Object, "platform admins open time-bound, read-only support windows on other tenants, with a reason") if
    resource.kind = "support" and resource.relation = "PLATFORM_SCOPE" and has_role(actor, "platform_admin");
decide(actor: Caller, "revoke", resource: Object, "platform admins end their own support windows early") if
    resource.kind = "support" and resource.relation = "SELF" and has_role(actor, "platform_admin");
decide(actor: Caller, "read", resource: Object, "platform admins see the support windows on every tenant") if
    resource.kind = "support" and (resource.relation = "PLATFORM_SCOPE" or resource.relation = "SELF") and
    has_role(actor, "platform_admin");
decide(actor: Caller, "read", resource: Object, "a tenant's admins see who opened support windows on it, when and why") if
    resource.kind = "support" and resource.relation = "SAME" and
    (has_role(actor, "reseller_admin") or has_role(actor, "customer_admin"));
