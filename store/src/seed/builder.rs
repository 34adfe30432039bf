//! The rows of the seed as plain data (`Statement`, `Value`) and the builder that appends them:
//! one helper per kind of row (tenant, domain, user, delegation, price list, price, listing),
//! each deriving its ids with `demo_id`.

use chrono::{DateTime, TimeZone, Utc};

use super::{DEMO_ISSUER, demo_id};

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Time(Option<DateTime<Utc>>),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Some(s.to_owned()))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Some(s))
    }
}
impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        Value::Text(s.map(str::to_owned))
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(Some(n))
    }
}
impl From<Option<i64>> for Value {
    fn from(n: Option<i64>) -> Self {
        Value::Int(n)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(t: DateTime<Utc>) -> Self {
        Value::Time(Some(t))
    }
}
impl From<Option<DateTime<Utc>>> for Value {
    fn from(t: Option<DateTime<Utc>>) -> Self {
        Value::Time(t)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// One INSERT of the seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub values: Vec<Value>,
}

impl Statement {
    /// The INSERT this row is written with, with `$n` placeholders.
    pub(super) fn sql(&self) -> String {
        let placeholders: Vec<String> = (1..=self.columns.len()).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table,
            self.columns.join(", "),
            placeholders.join(", ")
        )
    }

    /// The text value of a column, for tests.
    pub fn text(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| *c == column)?;
        match &self.values[i] {
            Value::Text(t) => t.as_deref(),
            _ => None,
        }
    }

    pub fn int(&self, column: &str) -> Option<i64> {
        let i = self.columns.iter().position(|c| *c == column)?;
        match &self.values[i] {
            Value::Int(n) => *n,
            _ => None,
        }
    }
}

/// Midnight UTC of a date of the demo.
pub(super) fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .expect("valid demo date")
}

/// The statements built so far, and the creation time stamped on the rows.
pub(super) struct Seed {
    pub(super) out: Vec<Statement>,
    pub(super) epoch: DateTime<Utc>,
}

impl Seed {
    pub(super) fn push(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        values: Vec<Value>,
    ) {
        debug_assert_eq!(columns.len(), values.len(), "{table}");
        self.out.push(Statement {
            table,
            columns,
            values,
        });
    }

    pub(super) fn tenant(
        &mut self,
        slug: &str,
        parent: Option<&str>,
        kind: &str,
        name: &str,
        region: Option<&str>,
    ) {
        let parent_id = parent.map(|p| demo_id("tenant", p));
        self.push(
            "tenants",
            &[
                "id",
                "parent_id",
                "kind",
                "slug",
                "name",
                "region",
                "created_at",
            ],
            vec![
                demo_id("tenant", slug).into(),
                parent_id.as_deref().into(),
                kind.into(),
                slug.into(),
                name.into(),
                region.into(),
                self.epoch.into(),
            ],
        );
    }

    pub(super) fn domain(&mut self, host: &str, tenant: &str) {
        self.push(
            "domains",
            &["host", "tenant_id", "created_at"],
            vec![
                host.into(),
                demo_id("tenant", tenant).into(),
                self.epoch.into(),
            ],
        );
    }

    pub(super) fn user(&mut self, email: &str, name: &str, tenant: &str, roles: &[(&str, &str)]) {
        let id = demo_id("user", email);
        let tenant_id = demo_id("tenant", tenant);
        self.push(
            "users",
            &[
                "id",
                "tenant_id",
                "issuer",
                "subject",
                "email",
                "display_name",
                "created_at",
            ],
            vec![
                id.clone().into(),
                tenant_id.clone().into(),
                DEMO_ISSUER.into(),
                id.clone().into(),
                email.into(),
                name.into(),
                self.epoch.into(),
            ],
        );
        for (role, regions) in roles {
            self.push(
                "role_assignments",
                &["tenant_id", "user_id", "role", "regions", "created_at"],
                vec![
                    tenant_id.clone().into(),
                    id.clone().into(),
                    (*role).into(),
                    (*regions).into(),
                    self.epoch.into(),
                ],
            );
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one row of the delegations table of DESIGN section 9"
    )]
    pub(super) fn delegation(
        &mut self,
        key: &str,
        customer: &str,
        reseller: &str,
        scopes: &str,
        status: &str,
        requested: DateTime<Utc>,
        approved: Option<DateTime<Utc>>,
        expires: DateTime<Utc>,
    ) {
        // An expired one ended at its end; the demo's run two years at most.
        let ended = (status == "EXPIRED").then_some(expires);
        self.push(
            "delegations",
            &[
                "id",
                "tenant_id",
                "reseller_id",
                "scopes",
                "status",
                "requested_at",
                "approved_at",
                "expires_at",
                "ended_at",
            ],
            vec![
                demo_id("delegation", key).into(),
                demo_id("tenant", customer).into(),
                demo_id("tenant", reseller).into(),
                scopes.into(),
                status.into(),
                requested.into(),
                approved.into(),
                expires.into(),
                ended.into(),
            ],
        );
    }

    /// Assigns a demo delegation to one of the reseller's staff (by email).
    pub(super) fn assign(&mut self, key: &str, customer: &str, reseller: &str, email: &str) {
        self.push(
            "delegation_assignments",
            &[
                "delegation_id",
                "tenant_id",
                "reseller_id",
                "user_id",
                "assigned_at",
            ],
            vec![
                demo_id("delegation", key).into(),
                demo_id("tenant", customer).into(),
                demo_id("tenant", reseller).into(),
                demo_id("user", email).into(),
                self.epoch.into(),
            ],
        );
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one price list row, named at the call site"
    )]
    pub(super) fn price_list(
        &mut self,
        reseller: &str,
        name: &str,
        region: &str,
        currency: &str,
        priority: i64,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> String {
        let id = demo_id("price_list", &format!("{reseller}/{name}"));
        self.push(
            "price_lists",
            &[
                "id",
                "tenant_id",
                "name",
                "region",
                "currency",
                "priority",
                "valid_from",
                "valid_to",
                "created_at",
                "updated_at",
            ],
            vec![
                id.clone().into(),
                demo_id("tenant", reseller).into(),
                name.into(),
                region.into(),
                currency.into(),
                priority.into(),
                from.into(),
                to.into(),
                self.epoch.into(),
                self.epoch.into(),
            ],
        );
        id
    }

    pub(super) fn price(
        &mut self,
        reseller: &str,
        list: &str,
        listing: &str,
        min_quantity: i64,
        amount: i64,
    ) {
        self.push(
            "prices",
            &[
                "tenant_id",
                "price_list_id",
                "listing_id",
                "min_quantity",
                "amount",
            ],
            vec![
                demo_id("tenant", reseller).into(),
                list.into(),
                listing.into(),
                min_quantity.into(),
                amount.into(),
            ],
        );
    }
}

/// A listing to seed: of a master product (`master` set) or the reseller's own.
#[derive(Default)]
pub(super) struct NewListing<'a> {
    pub(super) reseller: &'a str,
    pub(super) key: &'a str,
    pub(super) master: Option<&'a str>,
    pub(super) sku: Option<&'a str>,
    pub(super) name: Option<&'a str>,
    pub(super) description: Option<&'a str>,
    pub(super) brand: Option<&'a str>,
    pub(super) category: Option<&'a str>,
    pub(super) regions: &'a [&'a str],
    pub(super) restricted_to: &'a [&'a str],
    pub(super) cost: Option<(i64, &'a str)>,
}

impl Seed {
    pub(super) fn listing(&mut self, l: NewListing<'_>) -> String {
        let id = demo_id("listing", &format!("{}/{}", l.reseller, l.key));
        let tenant_id = demo_id("tenant", l.reseller);
        self.push(
            "listings",
            &[
                "id",
                "tenant_id",
                "master_product_id",
                "sku",
                "name",
                "description",
                "brand",
                "category",
                "status",
                "visibility",
                "cost_amount",
                "cost_currency",
                "created_at",
                "updated_at",
            ],
            vec![
                id.clone().into(),
                tenant_id.clone().into(),
                l.master.into(),
                l.sku.into(),
                l.name.into(),
                l.description.into(),
                l.brand.into(),
                l.category.into(),
                "ACTIVE".into(),
                if l.restricted_to.is_empty() {
                    "ALL"
                } else {
                    "RESTRICTED"
                }
                .into(),
                l.cost.map(|(amount, _)| amount).into(),
                l.cost.map(|(_, c)| c).into(),
                self.epoch.into(),
                self.epoch.into(),
            ],
        );
        for region in l.regions {
            self.push(
                "listing_regions",
                &["tenant_id", "listing_id", "region"],
                vec![
                    tenant_id.clone().into(),
                    id.clone().into(),
                    (*region).into(),
                ],
            );
        }
        for customer in l.restricted_to {
            self.push(
                "listing_customers",
                &["tenant_id", "listing_id", "customer_id"],
                vec![
                    tenant_id.clone().into(),
                    id.clone().into(),
                    demo_id("tenant", customer).into(),
                ],
            );
        }
        id
    }
}
