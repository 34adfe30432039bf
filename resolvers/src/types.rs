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

impl From<Region> for model::Region {
    fn from(r: Region) -> Self {
        match r {
            Region::Eu => model::Region::Eu,
            Region::Na => model::Region::Na,
            Region::Apac => model::Region::Apac,
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

/// A person who signs in to a portal.
#[derive(SimpleObject, Debug, Clone)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub name: String,
}

impl From<&model::User> for User {
    fn from(u: &model::User) -> Self {
        User {
            id: encode_id("User", &u.id),
            email: u.email.clone(),
            name: u.display_name.clone(),
        }
    }
}

/// The signed-in caller: who they are, their own tenant, and what Portico's database (never the
/// token) says they may do.
#[derive(SimpleObject, Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub tenant: Tenant,
    /// Role names, e.g. `buyer`, `sales_rep`.
    pub roles: Vec<String>,
    /// The regions the roles reach.
    pub regions: Vec<Region>,
}

impl From<&crate::Caller> for Viewer {
    fn from(c: &crate::Caller) -> Self {
        Viewer {
            user: User::from(&c.user),
            tenant: Tenant::from(&c.tenant),
            roles: c.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            regions: c.regions.iter().copied().map(Region::from).collect(),
        }
    }
}
