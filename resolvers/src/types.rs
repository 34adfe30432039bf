use async_graphql::{Enum, ID, SimpleObject};
use portico_store::model;

use crate::ids::encode_id;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    Platform,
    Reseller,
    Customer,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    #[graphql(name = "EU")]
    Eu,
    #[graphql(name = "NA")]
    Na,
    #[graphql(name = "APAC")]
    Apac,
}

impl From<model::Region> for Region {
    fn from(r: model::Region) -> Self {
        match r {
            model::Region::Eu => Region::Eu,
            model::Region::Na => Region::Na,
            model::Region::Apac => Region::Apac,
        }
    }
}

/// A tenant: the platform, a reseller or a customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct Tenant {
    pub id: ID,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    /// A customer's region; resellers and the platform have none.
    pub region: Option<Region>,
}

impl From<&model::Tenant> for Tenant {
    fn from(t: &model::Tenant) -> Self {
        Tenant {
            id: encode_id("Tenant", &t.id),
            slug: t.slug.clone(),
            name: t.name.clone(),
            kind: match t.kind {
                model::TenantKind::Platform => TenantKind::Platform,
                model::TenantKind::Reseller => TenantKind::Reseller,
                model::TenantKind::Customer => TenantKind::Customer,
            },
            region: t.region.map(Region::from),
        }
    }
}
