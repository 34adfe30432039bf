//! `portico-policies` owns authorization: the `*.polar` policy files, the fact types, the
//! `Authorizer` trait, the Oso engine behind it, the exact decision cache, the derivation of
//! list scopes by enumerating the finite fact domain, and the policy test cases.
//!
//! It decides and explains; it never reads the database or knows a tenant id. Callers compute
//! facts from rows and enforce the answers. Oso is deprecated upstream, so nothing outside this
//! crate may name it: an engine change stays a local change.

mod cases;
mod engine;
mod facts;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, RwLock};

use quick_cache::sync::Cache;

pub use cases::{Case, CaseFile, Expect, ResourceRef};
pub use engine::OsoEngine;
pub use facts::{
    Action, Actor, Decision, DelegatedScope, Kind, Region, Relation, Resource, Role, TenantKind,
    Visibility,
};

/// The policy compiled into the binary (the files under `policies/`), used unless a policy
/// directory is configured.
pub const DEFAULT_POLICY: &str = include_str!("../portico.polar");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy does not load: {0}")]
    Load(String),
    #[error("cannot read policy files in {path}: {message}")]
    Read { path: String, message: String },
    #[error("case file {file}: {message}")]
    Cases { file: String, message: String },
}

/// Every allow/deny goes through this; the engine behind it is replaceable.
pub trait Authorizer: Send + Sync {
    fn decide(&self, actor: &Actor, action: Action, resource: &Resource) -> Decision;
    fn decide_field(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        field: &str,
    ) -> Decision;
    /// The fields `action` may touch on `resource`.
    fn fields(&self, actor: &Actor, action: Action, resource: &Resource) -> Arc<BTreeSet<String>>;

    fn allows(&self, actor: &Actor, action: Action, resource: &Resource) -> bool {
        self.decide(actor, action, resource).allowed
    }
}

impl Authorizer for OsoEngine {
    fn decide(&self, actor: &Actor, action: Action, resource: &Resource) -> Decision {
        OsoEngine::decide(self, actor, action, resource)
    }

    fn decide_field(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        field: &str,
    ) -> Decision {
        OsoEngine::decide_field(self, actor, action, resource, field)
    }

    fn fields(&self, actor: &Actor, action: Action, resource: &Resource) -> Arc<BTreeSet<String>> {
        Arc::new(OsoEngine::fields(self, actor, action, resource))
    }
}

type DecisionKey = (Actor, Action, Resource);
type FieldKey = (Actor, Action, Resource, String);
type FieldsKey = (Actor, Action, Resource);

/// The engine with an exact cache in front: the key is the whole fact tuple, so a cached answer
/// is the engine's answer by construction. Bounded; a reload replaces engine and caches at once.
pub struct CachedAuthorizer {
    engine: OsoEngine,
    decisions: Cache<DecisionKey, Decision>,
    field_decisions: Cache<FieldKey, Decision>,
    fields: Cache<FieldsKey, Arc<BTreeSet<String>>>,
    scopes: Cache<(Actor, Action, Kind), Arc<AllowedSet>>,
}

/// The kinds a list query reads, whose scopes a request may need.
pub const LIST_KINDS: &[Kind] = &[
    Kind::Tenant,
    Kind::Customer,
    Kind::User,
    Kind::Delegation,
    Kind::Product,
];

/// Entries per cache. Facts carry no ids, so the number of distinct keys grows with the
/// combinations of roles and relations, not with tenants or rows.
pub const CACHE_CAPACITY: usize = 100_000;

impl CachedAuthorizer {
    pub fn new(engine: OsoEngine) -> Self {
        CachedAuthorizer {
            engine,
            decisions: Cache::new(CACHE_CAPACITY),
            field_decisions: Cache::new(CACHE_CAPACITY / 10),
            fields: Cache::new(CACHE_CAPACITY / 10),
            scopes: Cache::new(CACHE_CAPACITY / 100),
        }
    }

    pub fn engine(&self) -> &OsoEngine {
        &self.engine
    }

    /// Whether `allowed_set` would answer from the cache.
    pub fn has_allowed_set(&self, actor: &Actor, action: Action, kind: Kind) -> bool {
        self.scopes.get(&(actor.clone(), action, kind)).is_some()
    }

    /// The resource facts of `kind` that `action` is allowed on, over the kind's whole finite
    /// domain; computed once per actor and cached.
    pub fn allowed_set(&self, actor: &Actor, action: Action, kind: Kind) -> Arc<AllowedSet> {
        let key = (actor.clone(), action, kind);
        if let Some(set) = self.scopes.get(&key) {
            return set;
        }
        let allowed = domain(kind)
            .filter(|r| self.allows(actor, action, r))
            .collect();
        let set = Arc::new(AllowedSet { kind, allowed });
        self.scopes.insert(key, set.clone());
        set
    }
}

impl Authorizer for CachedAuthorizer {
    fn decide(&self, actor: &Actor, action: Action, resource: &Resource) -> Decision {
        let key = (actor.clone(), action, resource.clone());
        if let Some(d) = self.decisions.get(&key) {
            return d;
        }
        let d = self.engine.decide(actor, action, resource);
        log_decision(actor, action, resource, None, &d);
        self.decisions.insert(key, d.clone());
        d
    }

    fn decide_field(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        field: &str,
    ) -> Decision {
        let key = (actor.clone(), action, resource.clone(), field.to_owned());
        if let Some(d) = self.field_decisions.get(&key) {
            return d;
        }
        let d = self.engine.decide_field(actor, action, resource, field);
        log_decision(actor, action, resource, Some(field), &d);
        self.field_decisions.insert(key, d.clone());
        d
    }

    fn fields(&self, actor: &Actor, action: Action, resource: &Resource) -> Arc<BTreeSet<String>> {
        let key = (actor.clone(), action, resource.clone());
        if let Some(f) = self.fields.get(&key) {
            return f;
        }
        let f = Arc::new(self.engine.fields(actor, action, resource));
        self.fields.insert(key, f.clone());
        f
    }
}

/// Decisions are logged when first made (the cache serves repeats): denies at debug with the
/// reason, allows at trace.
fn log_decision(
    actor: &Actor,
    action: Action,
    resource: &Resource,
    field: Option<&str>,
    d: &Decision,
) {
    let roles: Vec<&str> = actor.roles().iter().map(|r| r.as_str()).collect();
    if d.allowed {
        tracing::trace!(target: "portico::authz", ?roles, %action, kind = %resource.kind,
            relation = %resource.relation, field, reason = %d.reason, "allow");
    } else {
        tracing::debug!(target: "portico::authz", ?roles, %action, kind = %resource.kind,
            relation = %resource.relation, field, reason = %d.reason, "deny");
    }
}

/// The allowed resource facts of one kind for one actor and action: what a list query may
/// return, turned into SQL or search predicates by the caller.
#[derive(Debug, Clone)]
pub struct AllowedSet {
    pub kind: Kind,
    allowed: HashSet<Resource>,
}

impl AllowedSet {
    pub fn contains(&self, resource: &Resource) -> bool {
        self.allowed.contains(resource)
    }

    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }

    /// The allowed facts, for turning into predicates.
    pub fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.allowed.iter()
    }

    pub fn len(&self) -> usize {
        self.allowed.len()
    }
}

/// Every combination of facts a resource of `kind` can have. Finite and small: relation ×
/// region × delegated scopes, and for products visibility × live instead of delegated scopes;
/// each with and without an open support window.
pub fn domain(kind: Kind) -> impl Iterator<Item = Resource> {
    let owner_kinds: &'static [TenantKind] = match kind {
        Kind::Customer | Kind::Delegation => &[TenantKind::Customer],
        Kind::Product => &[TenantKind::Reseller],
        _ => TenantKind::ALL,
    };
    let visibilities: &'static [Visibility] = match kind {
        Kind::Product => Visibility::ALL,
        _ => &[Visibility::All],
    };
    let lives: &'static [bool] = match kind {
        Kind::Product => &[true, false],
        _ => &[true],
    };
    let regions: Vec<Option<Region>> = std::iter::once(None)
        .chain(Region::ALL.iter().copied().map(Some))
        .collect();
    // Grants matter for what a customer lets its reseller do; a reseller's catalog has none.
    let scope_bits = if kind == Kind::Product {
        0
    } else {
        DelegatedScope::ALL.len()
    };
    let scope_sets: Vec<Vec<DelegatedScope>> = (0..(1u32 << scope_bits))
        .map(|bits| {
            DelegatedScope::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, g)| *g)
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for &relation in Relation::ALL {
        for region in &regions {
            for scopes in &scope_sets {
                for &owner_kind in owner_kinds {
                    for &visibility in visibilities {
                        for &live in lives {
                            for window in [false, true] {
                                let r = Resource::new(
                                    kind,
                                    relation,
                                    *region,
                                    visibility,
                                    scopes.iter().copied(),
                                    owner_kind,
                                )
                                .in_support_window(window);
                                out.push(if live { r } else { r.not_live() });
                            }
                        }
                    }
                }
            }
        }
    }
    out.into_iter()
}

/// The running policy, swapped whole on reload: requests in flight keep the authorizer they
/// started with.
pub struct Policies {
    current: RwLock<Arc<CachedAuthorizer>>,
    source: PolicySource,
}

/// Where the policy text comes from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    Builtin,
    Directory(std::path::PathBuf),
}

impl Policies {
    pub fn load(source: PolicySource) -> Result<Policies, PolicyError> {
        let authorizer = CachedAuthorizer::new(OsoEngine::new(&read_policy(&source)?)?);
        Ok(Policies {
            current: RwLock::new(Arc::new(authorizer)),
            source,
        })
    }

    pub fn current(&self) -> Arc<CachedAuthorizer> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads the policy again; on failure the running one stays and the error says why.
    pub fn reload(&self) -> Result<(), PolicyError> {
        let fresh = CachedAuthorizer::new(OsoEngine::new(&read_policy(&self.source)?)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}

/// The policy text: the built-in one, or every `*.polar` file of a directory in name order.
pub fn read_policy(source: &PolicySource) -> Result<String, PolicyError> {
    match source {
        PolicySource::Builtin => Ok(DEFAULT_POLICY.to_owned()),
        PolicySource::Directory(dir) => read_policy_dir(dir),
    }
}

fn read_policy_dir(dir: &Path) -> Result<String, PolicyError> {
    let failed = |message: String| PolicyError::Read {
        path: dir.display().to_string(),
        message,
    };
    let files = files_in(dir, &["polar"]).map_err(|e| failed(e.to_string()))?;
    if files.is_empty() {
        return Err(failed("no .polar files".into()));
    }
    let mut text = String::new();
    for file in files {
        text.push_str(
            &std::fs::read_to_string(&file)
                .map_err(|e| failed(format!("{}: {e}", file.display())))?,
        );
        text.push('\n');
    }
    Ok(text)
}

/// The files of `dir` with one of `extensions`, in name order.
pub(crate) fn files_in(
    dir: &Path,
    extensions: &[&str],
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Checks that a policy file (or directory) loads, without running it.
pub fn check(path: &Path) -> Result<(), PolicyError> {
    let text = if path.is_dir() {
        read_policy_dir(path)?
    } else {
        std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?
    };
    OsoEngine::new(&text).map(|_| ())
}
