//! The request's access: the caller's facts, the facts of what it touches, and the policy's
//! answers. Resolvers ask here; they never decide themselves.
//!
//! Relations, active delegations, open support windows and regions are computed from the
//! in-memory tenant tree, the caller's delegations and the caller's support windows; what they
//! mean is decided by `portico-policies` only.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use portico_policies::{
    Action, Actor, Authorizer, CachedAuthorizer, Decision, DelegatedScope, Kind, Region, Relation,
    Resource, Role, TenantKind, Visibility,
};
use portico_store::model::{self, Delegation, SupportWindow, Tenant};
use portico_store::{Directory, TenantScope};

use crate::Caller;

pub fn role(r: model::Role) -> Role {
    match r {
        model::Role::PlatformAdmin => Role::PlatformAdmin,
        model::Role::ResellerAdmin => Role::ResellerAdmin,
        model::Role::PricingManager => Role::PricingManager,
        model::Role::SalesRep => Role::SalesRep,
        model::Role::Support => Role::Support,
        model::Role::CustomerAdmin => Role::CustomerAdmin,
        model::Role::Buyer => Role::Buyer,
        model::Role::Viewer => Role::Viewer,
    }
}

pub fn region(r: model::Region) -> Region {
    match r {
        model::Region::Eu => Region::Eu,
        model::Region::Na => Region::Na,
        model::Region::Apac => Region::Apac,
    }
}

pub fn tenant_kind(k: model::TenantKind) -> TenantKind {
    match k {
        model::TenantKind::Platform => TenantKind::Platform,
        model::TenantKind::Reseller => TenantKind::Reseller,
        model::TenantKind::Customer => TenantKind::Customer,
    }
}

pub fn delegated_scope(s: model::DelegatedScope) -> DelegatedScope {
    match s {
        model::DelegatedScope::UserAdmin => DelegatedScope::UserAdmin,
        model::DelegatedScope::SettingsAdmin => DelegatedScope::SettingsAdmin,
        model::DelegatedScope::SupportReadonly => DelegatedScope::SupportReadonly,
    }
}

/// The policy's allowed product facts for one catalog, as SQL predicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPredicates {
    pub active_only: bool,
    pub sold_in: Option<model::Region>,
    pub visible_to: Option<String>,
}

/// One request's view of authorization. Cheap to share; the authorizer is the one that was
/// current when the request began (a reload does not change a request halfway).
pub struct Access {
    authorizer: Arc<CachedAuthorizer>,
    directory: Arc<Directory>,
    actor: Actor,
    actor_tenant: Option<Tenant>,
    user_id: Option<String>,
    /// Scopes the caller's tenant holds, active and unexpired, per customer tenant.
    delegated_scopes: HashMap<String, Vec<DelegatedScope>>,
    /// Tenants the caller holds an open support window on (read once per request).
    support_windows: HashSet<String>,
    /// Field paths (list indices removed) masked in this request: one error each.
    masked: MaskLog,
    /// This request's answers by resource facts: a page of products shares a handful of fact
    /// tuples, so most lookups skip even the shared cache (and hashing the actor).
    decisions: Mutex<HashMap<(Action, Resource), Decision>>,
    field_sets: Mutex<HashMap<Resource, Arc<BTreeSet<String>>>>,
}

/// The field paths masked while a request ran, read by the server afterwards to add one
/// FIELD_MASKED error per path.
#[derive(Debug, Clone, Default)]
pub struct MaskLog(Arc<Mutex<BTreeSet<String>>>);

impl MaskLog {
    pub fn paths(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

impl Access {
    /// `delegations` are the delegations given or held by the caller's tenant; only the active
    /// ones it holds and has assigned to the caller count.
    pub fn new(
        authorizer: Arc<CachedAuthorizer>,
        directory: Arc<Directory>,
        caller: Option<&Caller>,
        delegations: &[Delegation],
        now: DateTime<Utc>,
    ) -> Access {
        // Only delegations the caller's tenant holds, approved, unexpired and assigned to the
        // caller, count.
        let mut delegated_scopes: HashMap<String, Vec<DelegatedScope>> = HashMap::new();
        if let Some(caller) = caller {
            for d in delegations
                .iter()
                .filter(|d| d.reseller_id == caller.tenant.id && d.usable_by(&caller.user.id, now))
            {
                delegated_scopes
                    .entry(d.customer_id.clone())
                    .or_default()
                    .extend(d.scopes.iter().copied().map(delegated_scope));
            }
        }
        Access {
            authorizer,
            directory,
            actor: Access::actor_of(caller),
            actor_tenant: caller.map(|c| c.tenant.clone()),
            user_id: caller.map(|c| c.user.id.clone()),
            delegated_scopes,
            support_windows: HashSet::new(),
            masked: MaskLog::default(),
            decisions: Mutex::default(),
            field_sets: Mutex::default(),
        }
    }

    /// The caller's support windows: only those the caller opened and holds open at `now`
    /// count (the fact `support_window` on the window's tenant).
    pub fn with_support_windows(self, windows: &[SupportWindow], now: DateTime<Utc>) -> Access {
        let mine: Vec<String> = windows
            .iter()
            .filter(|w| self.user_id.as_deref() == Some(w.user_id.as_str()) && w.is_open(now))
            .map(|w| w.tenant_id.clone())
            .collect();
        self.with_support_window_on(mine)
    }

    /// As if the caller held an open support window on these tenants (the policy cases'
    /// `support_window: true`).
    pub fn with_support_window_on(mut self, tenants: impl IntoIterator<Item = String>) -> Access {
        self.support_windows.extend(tenants);
        self
    }

    /// Whether the caller holds an open support window on `tenant_id`.
    pub fn in_support_window(&self, tenant_id: &str) -> bool {
        self.support_windows.contains(tenant_id)
    }

    /// A support window's facts: its tenant's, with relation `SELF` when the caller opened it.
    pub fn support_facts(&self, window: &SupportWindow) -> Option<Resource> {
        let tenant = self.directory.tenant(&window.tenant_id)?;
        let facts = self.facts(Kind::Support, tenant);
        if self.user_id.as_deref() != Some(window.user_id.as_str()) {
            return Some(facts);
        }
        Some(
            Resource::new(
                Kind::Support,
                Relation::Itself,
                facts.region,
                facts.visibility,
                facts.delegated_scopes().iter().copied(),
                facts.owner_kind,
            )
            .in_support_window(facts.support_window),
        )
    }

    /// The policy's view of a caller (anonymous when there is none).
    pub fn actor_of(caller: Option<&Caller>) -> Actor {
        match caller {
            None => Actor::anonymous(),
            Some(c) => Actor::new(
                tenant_kind(c.tenant.kind),
                c.roles.iter().copied().map(role),
                c.regions.iter().copied().map(region),
            ),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn actor_tenant(&self) -> Option<&Tenant> {
        self.actor_tenant.as_ref()
    }

    /// How `tenant_id` relates to the caller's tenant.
    pub fn relation(&self, tenant_id: &str) -> Relation {
        match self.directory.tenant(tenant_id) {
            Some(other) => self.relation_of(other),
            None => Relation::Unrelated,
        }
    }

    /// How `other` relates to the caller's tenant, by its place in the tree (its parent): for
    /// a tenant of the directory, or one about to be created.
    pub fn relation_of(&self, other: &Tenant) -> Relation {
        let Some(me) = &self.actor_tenant else {
            return Relation::Unrelated;
        };
        if other.id == me.id {
            Relation::Same
        } else if other.parent_id.as_deref() == Some(me.id.as_str())
            && me.kind == model::TenantKind::Reseller
        {
            Relation::OwnCustomer
        } else if me.parent_id.as_deref() == Some(other.id.as_str())
            && me.kind == model::TenantKind::Customer
        {
            Relation::OwnReseller
        } else if me.kind == model::TenantKind::Platform {
            Relation::PlatformScope
        } else {
            Relation::Unrelated
        }
    }

    /// The facts of something that belongs to `tenant`.
    pub fn facts(&self, kind: Kind, tenant: &Tenant) -> Resource {
        Resource::new(
            kind,
            self.relation_of(tenant),
            tenant.region.map(region),
            Visibility::All,
            self.delegated_scopes
                .get(&tenant.id)
                .into_iter()
                .flatten()
                .copied(),
            tenant_kind(tenant.kind),
        )
        .in_support_window(self.in_support_window(&tenant.id))
    }

    /// A user's facts: `SELF` when it is the caller.
    pub fn user_facts(&self, user: &model::User) -> Option<Resource> {
        let tenant = self.directory.tenant(&user.tenant_id)?;
        let mut facts = self.facts(Kind::User, tenant);
        if self.user_id.as_deref() == Some(user.id.as_str()) {
            facts = Resource::new(
                Kind::User,
                Relation::Itself,
                facts.region,
                facts.visibility,
                facts.delegated_scopes().iter().copied(),
                facts.owner_kind,
            )
            .in_support_window(facts.support_window);
        }
        Some(facts)
    }

    pub fn decide(&self, action: Action, resource: &Resource) -> Decision {
        let key = (action, resource.clone());
        if let Some(d) = self
            .decisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return d.clone();
        }
        let d = self.authorizer.decide(&self.actor, action, resource);
        self.decisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, d.clone());
        d
    }

    /// Whether the caller may hand out `role` to a user with these facts: the policy's role
    /// ceilings (`assign`, with the role as the field).
    pub fn may_assign(&self, resource: &Resource, role: model::Role) -> bool {
        self.authorizer
            .decide_field(&self.actor, Action::Assign, resource, role.as_str())
            .allowed
    }

    pub fn allows(&self, action: Action, resource: &Resource) -> bool {
        self.decide(action, resource).allowed
    }

    /// The readable fields of a resource (one cached query).
    pub fn fields(&self, resource: &Resource) -> Arc<BTreeSet<String>> {
        if let Some(f) = self
            .field_sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(resource)
        {
            return f.clone();
        }
        let f = self.authorizer.fields(&self.actor, Action::Read, resource);
        self.field_sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(resource.clone(), f.clone());
        f
    }

    pub fn product_facts(&self, row: &portico_store::CatalogRow) -> Resource {
        crate::catalog::product_facts(self, row)
    }

    /// The catalog of `owner` as the caller may read it: `None` when nothing of it; else the
    /// predicates the allowed facts imply (only active listings, only those sold in the
    /// caller's region, only restricted ones granted to the caller's tenant).
    pub fn catalog_predicates(&self, owner: &Tenant) -> Option<CatalogPredicates> {
        let relation = self.relation(&owner.id);
        let window = self.in_support_window(&owner.id);
        let allowed = self
            .authorizer
            .allowed_set(&self.actor, Action::Read, Kind::Product);
        let facts: Vec<&Resource> = allowed
            .iter()
            .filter(|f| {
                f.relation == relation
                    && f.owner_kind == tenant_kind(owner.kind)
                    && f.support_window == window
            })
            .collect();
        if facts.is_empty() {
            return None;
        }
        let sold_in = if facts.iter().any(|f| f.region.is_none()) {
            None
        } else {
            // Only facts with a region: the caller's own region, where the listing is sold.
            let mine = self.actor_tenant.as_ref().and_then(|t| t.region)?;
            if !facts.iter().any(|f| f.region == Some(region(mine))) {
                return None;
            }
            Some(mine)
        };
        let visible_to = if facts.iter().any(|f| f.visibility == Visibility::NotGranted) {
            None
        } else {
            Some(self.actor_tenant.as_ref()?.id.clone())
        };
        Some(CatalogPredicates {
            active_only: !facts.iter().any(|f| !f.live),
            sold_in,
            visible_to,
        })
    }

    pub fn field_allowed(&self, resource: &Resource, field: &str) -> bool {
        self.fields(resource).contains(field)
    }

    /// The tenants whose `kind` objects the caller may read: the policy's allowed facts over
    /// the kind's domain, matched against every live tenant of the tree.
    pub fn scope(&self, kind: Kind) -> TenantScope {
        let allowed = self.authorizer.allowed_set(&self.actor, Action::Read, kind);
        TenantScope::of(
            self.directory
                .tenants
                .iter()
                .filter(|t| t.deleted_at.is_none())
                .filter(|t| allowed.contains(&self.facts(kind, t)))
                .map(|t| t.id.clone()),
        )
    }

    /// Records a masked field at `path` (indices dropped).
    pub fn mask(&self, path: String) {
        self.masked
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path);
    }

    /// A handle on this request's masked paths.
    pub fn masks(&self) -> MaskLog {
        self.masked.clone()
    }
}
