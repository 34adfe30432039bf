//! The outbox: one message per change, queued inside the write transaction of the change and
//! read by the search indexer. `Topic` names every kind of message; the database holds its
//! string (`Topic::as_str`).

use crate::db::scoped;
use crate::{Store, StoreError, TenantScope};

/// The topic of an outbox message: what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Listing,
    MasterProduct,
    ContractPrice,
    PriceList,
    Delegation,
    User,
    IdentityProvider,
    FeatureFlag,
    Customer,
    SupportWindow,
    SearchSynonyms,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 11] = [
        Topic::Listing,
        Topic::MasterProduct,
        Topic::ContractPrice,
        Topic::PriceList,
        Topic::Delegation,
        Topic::User,
        Topic::IdentityProvider,
        Topic::FeatureFlag,
        Topic::Customer,
        Topic::SupportWindow,
        Topic::SearchSynonyms,
    ];

    /// The string stored in `outbox.topic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::Listing => "listing.changed",
            Topic::MasterProduct => "master_product.changed",
            Topic::ContractPrice => "contract_price.changed",
            Topic::PriceList => "price_list.changed",
            Topic::Delegation => "delegation.changed",
            Topic::User => "user.changed",
            Topic::IdentityProvider => "identity_provider.changed",
            Topic::FeatureFlag => "feature_flag.changed",
            Topic::Customer => "customer.changed",
            Topic::SupportWindow => "support_window.changed",
            Topic::SearchSynonyms => "search_synonyms.changed",
        }
    }

    /// The topic of a stored string; `None` for one this version does not know.
    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Queues one outbox message inside the caller's write transaction.
macro_rules! enqueue_outbox {
    ($conn:ident, $tenant:expr, $topic:expr, $payload:expr) => {{
        sqlx::query(
            "INSERT INTO outbox (tenant_id, topic, payload, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind($tenant)
        .bind(crate::outbox::Topic::as_str($topic))
        .bind($payload.to_string())
        .bind(chrono::Utc::now())
        .execute(&mut *$conn)
        .await
        .map_err(crate::StoreError::from_db)?;
    }};
}

/// The tail of every write: its audit row, then its outbox message, in the caller's write
/// transaction. Evaluates to the audit row written.
macro_rules! record_change {
    ($conn:ident, $d:ident, $tenant:expr, $entry:expr, $topic:expr, $payload:expr) => {{
        let tenant: &str = $tenant;
        let row = crate::audit::append_audit!($conn, $d, tenant, $entry);
        crate::outbox::enqueue_outbox!($conn, tenant, $topic, $payload);
        row
    }};
}
/// `record_change!` for a change a reseller may make in its customer under a delegation
/// (`DelegatedUse`): the row goes into `$tenant`'s chain with its outbox message as always; for
/// a delegated change its reason also names the delegation and the scope used, and the same row
/// is appended to the reseller's chain, its target prefixed with the tenant acted in. The
/// customer's chain first, the reseller's second (see `append_audit!` for why the order is
/// fixed). Evaluates to the row of `$tenant`'s chain.
macro_rules! record_delegated_change {
    ($conn:ident, $d:ident, $tenant:expr, $entry:expr, $delegated:expr, $topic:expr, $payload:expr) => {{
        let tenant: &str = $tenant;
        let mut entry: crate::model::NewAuditEntry = $entry;
        let delegated: Option<&crate::delegations::DelegatedUse> = $delegated;
        if let Some(used) = delegated {
            let why = format!(
                "delegation {} ({})",
                used.delegation_id,
                used.scope.as_str()
            );
            entry.reason = Some(match entry.reason.take() {
                Some(reason) if !reason.is_empty() => format!("{reason}; {why}"),
                _ => why,
            });
        }
        if let Some(used) = delegated {
            crate::delegations::check_in_force!($conn, $d, tenant, used, &entry.actor);
        }
        let row = crate::outbox::record_change!($conn, $d, tenant, &entry, $topic, $payload);
        if let Some(used) = delegated {
            let mut mirror = entry.clone();
            mirror.target = format!("tenant:{}/{}", tenant, entry.target);
            crate::audit::append_audit!($conn, $d, &used.reseller_id, &mirror);
        }
        row
    }};
}
pub(crate) use {enqueue_outbox, record_change, record_delegated_change};

impl Store {
    /// Undelivered outbox messages of the tenants in scope: (id, tenant, topic, payload).
    pub async fn pending_outbox(
        &self,
        scope: &TenantScope,
    ) -> Result<Vec<(i64, String, String, String)>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, topic, payload FROM outbox \
                 WHERE processed_at IS NULL AND {} ORDER BY id",
                d.in_json("tenant_id", 1)
            );
            Ok(sqlx::query_as(&sql)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Topic;

    #[test]
    fn every_topic_parses_back() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()), Some(t));
        }
        assert_eq!(Topic::parse("nothing.changed"), None);
    }
}
