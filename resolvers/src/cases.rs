//! Runs `policies/cases/*.yaml` against the demo data: each case's user becomes a `Caller`
//! exactly as a signed-in request would, its resource becomes facts through `Access`, and the
//! policy's answer is compared with the expectation. Used by `portico policy test`, `portico
//! policy explain` and `cargo test`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use portico_policies::{
    Action, CachedAuthorizer, Case, CaseFile, Decision, Expect, Kind, Resource, ResourceRef,
};
use portico_store::{Directory, Store, TenantScope};

use crate::Caller;
use crate::authz::Access;

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
}

impl CaseWorld {
    pub async fn load(store: &Store) -> Result<CaseWorld, String> {
        let directory = store.load_directory().await.map_err(|e| e.to_string())?;
        let all = directory.scope_of_all();
        let mut callers = HashMap::new();
        for tenant in directory.tenants.iter().filter(|t| t.deleted_at.is_none()) {
            let users = store
                .users_of_tenant(&all, &tenant.id)
                .await
                .map_err(|e| e.to_string())?;
            for user in users {
                let assignments = store
                    .role_assignments(&TenantScope::single(tenant.id.clone()), &user.id)
                    .await
                    .map_err(|e| e.to_string())?;
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
    ) -> Result<Access, String> {
        let caller = self
            .callers
            .get(email)
            .ok_or_else(|| format!("no user {email:?}"))?;
        let delegations = self
            .store
            .delegations(&TenantScope::single(caller.tenant.id.clone()))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Access::new(
            authorizer.clone(),
            self.directory.clone(),
            Some(caller),
            &delegations,
            Utc::now(),
        ))
    }

    async fn facts(&self, access: &Access, resource: &ResourceRef) -> Result<Resource, String> {
        let tenant = |slug: &str| {
            self.directory
                .tenant_by_slug(slug)
                .ok_or_else(|| format!("no tenant {slug:?}"))
        };
        Ok(match resource.kind.as_str() {
            "portal" => access.facts(Kind::Portal, tenant(&resource.name)?),
            "tenant" => access.facts(Kind::Tenant, tenant(&resource.name)?),
            "customer" => access.facts(Kind::Customer, tenant(&resource.name)?),
            "user" => {
                let user = self
                    .store
                    .user_by_email(&self.all, &resource.name)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("no user {:?}", resource.name))?;
                access
                    .user_facts(&user)
                    .ok_or_else(|| format!("user {:?} has no tenant", resource.name))?
            }
            "delegation" => {
                let (customer, reseller) = resource
                    .name
                    .split_once('>')
                    .ok_or("a delegation is named CUSTOMER>RESELLER")?;
                let customer = tenant(customer)?;
                let reseller = tenant(reseller)?;
                let rows = self
                    .store
                    .delegations(&TenantScope::single(customer.id.clone()))
                    .await
                    .map_err(|e| e.to_string())?;
                if !rows.iter().any(|d| d.reseller_id == reseller.id) {
                    return Err(format!("no delegation {}", resource.name));
                }
                access.facts(Kind::Delegation, customer)
            }
            "product" => {
                let (owner, sku) = resource
                    .name
                    .split_once('/')
                    .ok_or("a product is named RESELLER/SKU")?;
                let owner = tenant(owner)?;
                let listing = self
                    .store
                    .listings(&TenantScope::single(owner.id.clone()), &owner.id, 10_000)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .find(|l| l.sku == sku)
                    .ok_or_else(|| format!("no product {}", resource.name))?;
                let viewer = access.actor_tenant().map(|t| t.id.clone());
                let scope =
                    TenantScope::of(std::iter::once(owner.id.clone()).chain(viewer.clone()));
                let row = self
                    .store
                    .catalog_by_ids(&scope, &[listing.id], viewer.as_deref())
                    .await
                    .map_err(|e| e.to_string())?
                    .pop()
                    .ok_or_else(|| format!("no product {}", resource.name))?;
                access.product_facts(&row)
            }
            other => return Err(format!("unknown resource kind {other:?}")),
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
    ) -> Result<Explanation, String> {
        use portico_policies::Authorizer as _;
        let access = self.access(authorizer, email).await?;
        let action = Action::parse(action).ok_or_else(|| {
            format!(
                "unknown action {action:?}; one of {}",
                Action::ALL
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let facts = self.facts(&access, resource).await?;
        let decision = match field {
            Some(field) => authorizer.decide_field(access.actor(), action, &facts, field),
            None => authorizer.decide(access.actor(), action, &facts),
        };
        Ok(Explanation {
            decision,
            resource: facts,
            actor: format!("{:?}", access.actor()),
        })
    }

    /// Runs every case of the files.
    pub async fn run(
        &self,
        authorizer: &Arc<CachedAuthorizer>,
        files: &[CaseFile],
    ) -> Result<CaseReport, String> {
        let users = self.users();
        let mut report = CaseReport::default();
        for file in files {
            let cases: Vec<Case> = file.expand(&users).map_err(|e| e.to_string())?;
            for case in cases {
                report.total += 1;
                let got = self
                    .explain(
                        authorizer,
                        &case.user,
                        &case.action,
                        &case.resource,
                        case.field.as_deref(),
                    )
                    .await
                    .map_err(|e| format!("{}: {e}", case.origin))?;
                let expected = case.expect == Expect::Allow;
                if got.decision.allowed != expected {
                    report.failures.push(format!(
                        "{}: {} {} {}{}: expected {}, got {} ({})",
                        case.origin,
                        case.user,
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
