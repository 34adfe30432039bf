//! Runs `policies/cases/*.yaml` against the demo data: each case's user becomes a `Caller`
//! exactly as a signed-in request would, its resource becomes facts through `Access`, and the
//! policy's answer is compared with the expectation. Used by `portico policy test`, `portico
//! policy explain` and `cargo test`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use portico_policies::{
    Action, CachedAuthorizer, Case, CaseFile, Decision, Expect, Kind, PolicyError, Resource,
    ResourceRef,
};
use portico_store::{Directory, Store, StoreError, TenantScope};

use crate::Caller;
use crate::authz::Access;

/// Why a case could not be run: the case names something the data does not hold, or the store
/// or the case file failed. Each message is the one `portico policy` prints.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no user {0:?}")]
    NoUser(String),
    #[error("no tenant {0:?}")]
    NoTenant(String),
    #[error("user {0:?} has no tenant")]
    UserWithoutTenant(String),
    #[error("no delegation {0}")]
    NoDelegation(String),
    #[error("no product {0}")]
    NoProduct(String),
    /// A resource name not in its kind's form, e.g. "a product is named RESELLER/SKU".
    #[error("a {kind} is named {form}")]
    BadName {
        kind: &'static str,
        form: &'static str,
    },
    #[error("unknown resource kind {0:?}")]
    UnknownKind(String),
    #[error("unknown action {0:?}; one of {names}", names = action_names())]
    UnknownAction(String),
    /// The store's error, as its message (not as a source: the message is all that is printed).
    #[error("{0}")]
    Store(StoreError),
    #[error("{0}")]
    Policy(PolicyError),
    /// An error while running one case, prefixed with the case's origin (`file#n`).
    #[error("{origin}: {error}")]
    InCase {
        origin: String,
        error: Box<CaseError>,
    },
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        CaseError::Store(e)
    }
}

impl From<PolicyError> for CaseError {
    fn from(e: PolicyError) -> Self {
        CaseError::Policy(e)
    }
}

fn action_names() -> String {
    Action::ALL
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The demo world the cases are resolved in.
pub struct CaseWorld {
    store: Store,
    directory: Arc<Directory>,
    all: TenantScope,
    callers: HashMap<String, Caller>,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct CaseReport {
    pub total: usize,
    pub failures: Vec<String>,
}

/// One explained decision.
#[derive(Debug)]
pub struct Explanation {
    pub decision: Decision,
    pub resource: Resource,
    pub actor: String,
    /// The delegations whose scopes are in the resource's facts: held by the actor's tenant on
    /// the resource's tenant, active and assigned to the actor (`id (SCOPES; ends …)`).
    pub delegations: Vec<String>,
}

impl CaseWorld {
    pub async fn load(store: &Store) -> Result<CaseWorld, CaseError> {
        let directory = store.load_directory().await?;
        let all = directory.scope_of_all();
        let mut callers = HashMap::new();
        for tenant in directory.tenants.iter().filter(|t| t.deleted_at.is_none()) {
            let users = store.users_of_tenant(&all, &tenant.id).await?;
            for user in users {
                let assignments = store
                    .role_assignments(&TenantScope::single(tenant.id.clone()), &user.id)
                    .await?;
                callers.insert(
                    user.email.clone(),
                    Caller::new(user, tenant.clone(), &assignments),
                );
            }
        }
        Ok(CaseWorld {
            store: store.clone(),
            directory: Arc::new(directory),
            all,
            callers,
        })
    }

    /// Every user's email, sorted: the population an `allow:` list is expanded over.
    pub fn users(&self) -> Vec<String> {
        let mut users: Vec<String> = self.callers.keys().cloned().collect();
        users.sort();
        users
    }

    async fn access(
        &self,
        authorizer: &Arc<CachedAuthorizer>,
        email: &str,
        support_window: bool,
    ) -> Result<Access, CaseError> {
        let caller = self
            .callers
            .get(email)
            .ok_or_else(|| CaseError::NoUser(email.to_owned()))?;
        let delegations = self
            .store
            .delegations(&TenantScope::single(caller.tenant.id.clone()))
            .await?;
        let access = Access::new(
            authorizer.clone(),
            self.directory.clone(),
            Some(caller),
            &delegations,
            Utc::now(),
        );
        // `support_window: true`: as if the user held an open window on the resource's
        // tenant, which for one decision is the same as holding one on every tenant.
        Ok(if support_window {
            let all = self.directory.tenants.iter().map(|t| t.id.clone());
            access.with_support_window_on(all.collect::<Vec<_>>())
        } else {
            access
        })
    }

    async fn facts(&self, access: &Access, resource: &ResourceRef) -> Result<Resource, CaseError> {
        let tenant = |slug: &str| {
            self.directory
                .tenant_by_slug(slug)
                .ok_or_else(|| CaseError::NoTenant(slug.to_owned()))
        };
        Ok(match resource.kind.as_str() {
            "portal" => access.facts(Kind::Portal, tenant(&resource.name)?),
            "tenant" => access.facts(Kind::Tenant, tenant(&resource.name)?),
            "customer" => access.facts(Kind::Customer, tenant(&resource.name)?),
            "audit" => access.facts(Kind::Audit, tenant(&resource.name)?),
            "support" => access.facts(Kind::Support, tenant(&resource.name)?),
            "service_account" => access.facts(Kind::ServiceAccount, tenant(&resource.name)?),
            "settings" => access.facts(Kind::Settings, tenant(&resource.name)?),
            "user" => {
                let user = self
                    .store
                    .user_by_email(&self.all, &resource.name)
                    .await?
                    .ok_or_else(|| CaseError::NoUser(resource.name.clone()))?;
                access
                    .user_facts(&user)
                    .ok_or_else(|| CaseError::UserWithoutTenant(resource.name.clone()))?
            }
            "delegation" => {
                let (customer, reseller) =
                    resource.name.split_once('>').ok_or(CaseError::BadName {
                        kind: "delegation",
                        form: "CUSTOMER>RESELLER",
                    })?;
                let customer = tenant(customer)?;
                let reseller = tenant(reseller)?;
                let rows = self
                    .store
                    .delegations(&TenantScope::single(customer.id.clone()))
                    .await?;
                if !rows.iter().any(|d| d.reseller_id == reseller.id) {
                    return Err(CaseError::NoDelegation(resource.name.clone()));
                }
                access.facts(Kind::Delegation, customer)
            }
            "product" => {
                let (owner, sku) = resource.name.split_once('/').ok_or(CaseError::BadName {
                    kind: "product",
                    form: "RESELLER/SKU",
                })?;
                let owner = tenant(owner)?;
                let listing = self
                    .store
                    .listings(&TenantScope::single(owner.id.clone()), &owner.id, 10_000)
                    .await?
                    .into_iter()
                    .find(|l| l.sku == sku)
                    .ok_or_else(|| CaseError::NoProduct(resource.name.clone()))?;
                let viewer = access.actor_tenant().map(|t| t.id.clone());
                let scope =
                    TenantScope::of(std::iter::once(owner.id.clone()).chain(viewer.clone()));
                let row = self
                    .store
                    .catalog_by_ids(&scope, &[listing.id], viewer.as_deref())
                    .await?
                    .pop()
                    .ok_or_else(|| CaseError::NoProduct(resource.name.clone()))?;
                access.product_facts(&row)
            }
            // A customer about to be created (`createCustomer`): under RESELLER, in REGION.
            "new-customer" => {
                let (parent, region) = resource.name.split_once('/').ok_or(CaseError::BadName {
                    kind: "new-customer",
                    form: "RESELLER/REGION",
                })?;
                let region = region.parse().map_err(|_| CaseError::BadName {
                    kind: "new-customer",
                    form: "RESELLER/REGION (EU, NA or APAC)",
                })?;
                let prospective = portico_store::model::Tenant {
                    id: String::new(),
                    parent_id: Some(tenant(parent)?.id.clone()),
                    kind: portico_store::model::TenantKind::Customer,
                    slug: String::new(),
                    name: String::new(),
                    region: Some(region),
                    created_at: Utc::now(),
                    deleted_at: None,
                    suspended_at: None,
                    suspended_reason: None,
                    contact_email: None,
                    contact_phone: None,
                    version: 1,
                };
                access.facts(Kind::Customer, &prospective)
            }
            other => return Err(CaseError::UnknownKind(other.to_owned())),
        })
    }

    /// The policy's answer for one user, action, resource and optional field.
    pub async fn explain(
        &self,
        authorizer: &Arc<CachedAuthorizer>,
        email: &str,
        action: &str,
        resource: &ResourceRef,
        field: Option<&str>,
    ) -> Result<Explanation, CaseError> {
        self.explain_with(authorizer, email, action, resource, field, false)
            .await
    }

    /// `explain`, optionally as if the user held an open support window on the resource's
    /// tenant.
    pub async fn explain_with(
        &self,
        authorizer: &Arc<CachedAuthorizer>,
        email: &str,
        action: &str,
        resource: &ResourceRef,
        field: Option<&str>,
        support_window: bool,
    ) -> Result<Explanation, CaseError> {
        use portico_policies::Authorizer as _;
        let access = self.access(authorizer, email, support_window).await?;
        let action =
            Action::parse(action).ok_or_else(|| CaseError::UnknownAction(action.to_owned()))?;
        let facts = self.facts(&access, resource).await?;
        let decision = match field {
            Some(field) => authorizer.decide_field(access.actor(), action, &facts, field),
            None => authorizer.decide(access.actor(), action, &facts),
        };
        let delegations = match self.tenant_of(resource) {
            Some(tenant) if !facts.delegated_scopes().is_empty() => {
                self.delegations_used(email, &tenant).await?
            }
            _ => Vec::new(),
        };
        Ok(Explanation {
            decision,
            resource: facts,
            actor: format!("{:?}", access.actor()),
            delegations,
        })
    }

    /// The tenant a resource belongs to, where its name says (`customer:`, `tenant:`, `audit:`,
    /// `delegation:CUSTOMER>…`, `user:EMAIL`).
    fn tenant_of(&self, resource: &ResourceRef) -> Option<String> {
        let slug = match resource.kind.as_str() {
            "customer" | "tenant" | "audit" | "service_account" | "settings" => {
                resource.name.as_str()
            }
            "delegation" => resource.name.split_once('>')?.0,
            "user" => {
                return self
                    .callers
                    .get(&resource.name)
                    .map(|c| c.tenant.id.clone());
            }
            _ => return None,
        };
        self.directory.tenant_by_slug(slug).map(|t| t.id.clone())
    }

    /// The delegations `email` uses on `tenant` now: held by their tenant, active, assigned
    /// to them.
    async fn delegations_used(&self, email: &str, tenant: &str) -> Result<Vec<String>, CaseError> {
        let Some(caller) = self.callers.get(email) else {
            return Ok(Vec::new());
        };
        let now = Utc::now();
        let held = self
            .store
            .delegations(&TenantScope::single(caller.tenant.id.clone()))
            .await?;
        Ok(held
            .iter()
            .filter(|d| {
                d.customer_id == tenant
                    && d.reseller_id == caller.tenant.id
                    && d.usable_by(&caller.user.id, now)
            })
            .map(|d| {
                let scopes: Vec<&str> = d.scopes.iter().map(|s| s.as_str()).collect();
                format!(
                    "{} ({}; ends {})",
                    d.id,
                    scopes.join(", "),
                    d.expires_at.format("%Y-%m-%d")
                )
            })
            .collect())
    }

    /// Runs every case of the files.
    pub async fn run(
        &self,
        authorizer: &Arc<CachedAuthorizer>,
        files: &[CaseFile],
    ) -> Result<CaseReport, CaseError> {
        let users = self.users();
        let mut report = CaseReport::default();
        for file in files {
            let cases: Vec<Case> = file.expand(&users)?;
            for case in cases {
                report.total += 1;
                let got = self
                    .explain_with(
                        authorizer,
                        &case.user,
                        &case.action,
                        &case.resource,
                        case.field.as_deref(),
                        case.support_window,
                    )
                    .await
                    .map_err(|e| CaseError::InCase {
                        origin: case.origin.clone(),
                        error: Box::new(e),
                    })?;
                let expected = case.expect == Expect::Allow;
                if got.decision.allowed != expected {
                    report.failures.push(format!(
                        "{}: {}{} {} {}{}: expected {}, got {} ({})",
                        case.origin,
                        case.user,
                        if case.support_window {
                            " (in a support window)"
                        } else {
                            ""
                        },
                        case.action,
                        case.resource,
                        case.field
                            .as_deref()
                            .map(|f| format!(".{f}"))
                            .unwrap_or_default(),
                        if expected { "allow" } else { "deny" },
                        if got.decision.allowed {
                            "allow"
                        } else {
                            "deny"
                        },
                        got.decision.reason
                    ));
                }
            }
        }
        Ok(report)
    }
}
