//! The Oso engine: the policy loaded once (Oso's Rust crate takes one `load_str` per policy),
//! queried with facts converted to two Polar classes.

use std::collections::BTreeSet;

use oso::{Oso, PolarClass, PolarValue};

use crate::PolicyError;
use crate::facts::{Action, Actor, Decision, Resource};

/// The actor as Polar sees it.
#[derive(Clone, Debug, PolarClass)]
#[polar(class_name = "Caller")]
struct PolarActor {
    #[polar(attribute)]
    signed_in: bool,
    #[polar(attribute)]
    tenant_kind: String,
    #[polar(attribute)]
    roles: Vec<String>,
    #[polar(attribute)]
    regions: Vec<String>,
}

/// The resource as Polar sees it.
#[derive(Clone, Debug, PolarClass)]
#[polar(class_name = "Object")]
struct PolarResource {
    #[polar(attribute)]
    kind: String,
    #[polar(attribute)]
    relation: String,
    #[polar(attribute)]
    region: String,
    #[polar(attribute)]
    visibility: String,
    #[polar(attribute)]
    delegated_scopes: Vec<String>,
    #[polar(attribute)]
    owner_kind: String,
    #[polar(attribute)]
    live: bool,
    #[polar(attribute)]
    support_window: bool,
}

impl From<&Actor> for PolarActor {
    fn from(a: &Actor) -> Self {
        PolarActor {
            signed_in: a.is_signed_in(),
            tenant_kind: a.tenant_kind.map_or("NONE", |k| k.as_str()).to_owned(),
            roles: a.roles().iter().map(|r| r.as_str().to_owned()).collect(),
            regions: a.regions().iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

impl From<&Resource> for PolarResource {
    fn from(r: &Resource) -> Self {
        PolarResource {
            kind: r.kind.as_str().to_owned(),
            relation: r.relation.as_str().to_owned(),
            region: r.region.map_or("", |x| x.as_str()).to_owned(),
            visibility: r.visibility.as_str().to_owned(),
            delegated_scopes: r
                .delegated_scopes()
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            owner_kind: r.owner_kind.as_str().to_owned(),
            live: r.live,
            support_window: r.support_window,
        }
    }
}

/// Uncached decisions straight from Polar.
pub struct OsoEngine {
    oso: Oso,
}

impl OsoEngine {
    /// Loads the policy text (all `.polar` sources concatenated: one load per engine).
    pub fn new(policy: &str) -> Result<OsoEngine, PolicyError> {
        let mut oso = Oso::new();
        oso.register_class(PolarActor::get_polar_class())
            .map_err(|e| PolicyError::Load(e.to_string()))?;
        oso.register_class(PolarResource::get_polar_class())
            .map_err(|e| PolicyError::Load(e.to_string()))?;
        oso.load_str(policy)
            .map_err(|e| PolicyError::Load(e.to_string()))?;
        Ok(OsoEngine { oso })
    }

    /// The first matching `decide` rule's reason, or a deny.
    pub fn decide(&self, actor: &Actor, action: Action, resource: &Resource) -> Decision {
        let query = self.oso.query_rule(
            "decide",
            (
                PolarActor::from(actor),
                action.as_str(),
                PolarResource::from(resource),
                PolarValue::Variable("reason".to_owned()),
            ),
        );
        first_reason(query, "reason")
    }

    /// Whether one field may be read/acted on, and why.
    pub fn decide_field(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        field: &str,
    ) -> Decision {
        let query = self.oso.query_rule(
            "field_rule",
            (
                PolarActor::from(actor),
                action.as_str(),
                PolarResource::from(resource),
                field,
                PolarValue::Variable("reason".to_owned()),
            ),
        );
        first_reason(query, "reason")
    }

    /// Every field `allow_field` delegated_scopes for the action: one query with the field unbound.
    pub fn fields(&self, actor: &Actor, action: Action, resource: &Resource) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let query = self.oso.query_rule(
            "allow_field",
            (
                PolarActor::from(actor),
                action.as_str(),
                PolarResource::from(resource),
                PolarValue::Variable("field".to_owned()),
            ),
        );
        match query {
            Ok(query) => {
                for result in query {
                    match result.and_then(|r| r.get_typed::<String>("field")) {
                        Ok(field) => {
                            out.insert(field);
                        }
                        Err(err) => {
                            tracing::error!(target: "portico::authz", error = %err, "field query failed; denying");
                            return BTreeSet::new();
                        }
                    }
                }
            }
            Err(err) => {
                tracing::error!(target: "portico::authz", error = %err, "field query failed; denying");
            }
        }
        out
    }
}

/// The first result's reason; an engine error is a deny (and logged), never an allow.
fn first_reason(query: oso::Result<oso::Query>, var: &str) -> Decision {
    let mut query = match query {
        Ok(q) => q,
        Err(err) => {
            tracing::error!(target: "portico::authz", error = %err, "policy query failed; denying");
            return Decision::deny();
        }
    };
    match query.next() {
        Some(Ok(result)) => Decision {
            allowed: true,
            reason: result
                .get_typed::<String>(var)
                .unwrap_or_else(|_| "allowed".to_owned()),
        },
        Some(Err(err)) => {
            tracing::error!(target: "portico::authz", error = %err, "policy query failed; denying");
            Decision::deny()
        }
        None => Decision::deny(),
    }
}
