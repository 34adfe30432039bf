//! `TenantScope`: which tenants' rows one unit of work may touch.
//!
//! Every repository call takes one and puts it into its SQL; on PostgreSQL the same set is also
//! handed to row-level security for the transaction. Scopes are built by the layers above from
//! the policy (DESIGN section 5); this crate only enforces them.

use std::collections::BTreeSet;

use crate::model::TenantId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    tenants: BTreeSet<TenantId>,
}

impl TenantScope {
    /// The rows of exactly these tenants.
    pub fn of<I, S>(tenants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<TenantId>,
    {
        TenantScope {
            tenants: tenants.into_iter().map(Into::into).collect(),
        }
    }

    /// One tenant's rows.
    pub fn single(tenant: impl Into<TenantId>) -> Self {
        Self::of([tenant])
    }

    /// Nothing at all: every scoped query returns no rows.
    pub fn none() -> Self {
        TenantScope {
            tenants: BTreeSet::new(),
        }
    }

    pub fn contains(&self, tenant: &str) -> bool {
        self.tenants.contains(tenant)
    }

    pub fn tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.tenants.iter()
    }

    /// This scope and some more tenants.
    pub fn union_with<I, S>(&self, more: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<TenantId>,
    {
        let mut tenants = self.tenants.clone();
        tenants.extend(more.into_iter().map(Into::into));
        TenantScope { tenants }
    }

    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// The JSON array bound into `IN (…)` predicates on both backends.
    pub(crate) fn json(&self) -> String {
        serde_json::to_string(&self.tenants).expect("a set of strings serializes")
    }

    /// The value of `app.tenant_ids` for PostgreSQL's row-level security.
    pub(crate) fn rls_setting(&self) -> String {
        // Ids are UUIDs (no commas); an id with a comma would widen nothing, it would simply not
        // match any row.
        self.tenants
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}
