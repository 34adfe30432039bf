//! The facts a decision is made on: small value types without row ids, so decisions repeat and
//! the cache can key on the whole tuple. Computing them from rows is the caller's job; what
//! they mean is the policy's.

macro_rules! fact_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

fact_enum!(Role {
    PlatformAdmin = "platform_admin",
    ResellerAdmin = "reseller_admin",
    PricingManager = "pricing_manager",
    SalesRep = "sales_rep",
    Support = "support",
    CustomerAdmin = "customer_admin",
    Buyer = "buyer",
    Viewer = "viewer",
});
fact_enum!(Region { Eu = "EU", Na = "NA", Apac = "APAC" });
fact_enum!(TenantKind { Platform = "PLATFORM", Reseller = "RESELLER", Customer = "CUSTOMER" });
fact_enum!(Relation {
    // Itself: the resource is the actor (users only).
    Itself = "SELF",
    Same = "SAME",
    OwnCustomer = "OWN_CUSTOMER",
    OwnReseller = "OWN_RESELLER",
    PlatformScope = "PLATFORM_SCOPE",
    Unrelated = "UNRELATED",
});
fact_enum!(Visibility { All = "ALL", GrantedToMe = "GRANTED_TO_ME", NotGranted = "NOT_GRANTED" });
fact_enum!(DelegatedScope {
    UserAdmin = "USER_ADMIN",
    SettingsAdmin = "SETTINGS_ADMIN",
    SupportReadonly = "SUPPORT_READONLY",
});
fact_enum!(Kind {
    Portal = "portal",
    Tenant = "tenant",
    Customer = "customer",
    User = "user",
    Delegation = "delegation",
    Product = "product",
    // A tenant's audit log (its hash chain), whoever wrote the rows.
    Audit = "audit",
    // The support windows platform staff open on a tenant (the tenant looked at).
    Support = "support",
    // A tenant's service accounts (integration credentials).
    ServiceAccount = "service_account",
    // A tenant's settings (a customer's name and contacts; later its theme and feature flags).
    Settings = "settings",
});
fact_enum!(Action {
    Read = "read",
    Request = "request",
    Approve = "approve",
    Decline = "decline",
    Revoke = "revoke",
    Update = "update",
    Price = "price",
    Manage = "manage",
    Assign = "assign",
    // A customer: create one under the actor's reseller; suspend or resume one.
    Create = "create",
    Suspend = "suspend",
    // Open a support window on a tenant.
    Open = "open",
});

/// Who asks: their roles and regions in the request's tenant context. `tenant_kind` is `None`
/// for an anonymous caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    pub tenant_kind: Option<TenantKind>,
    roles: Vec<Role>,
    regions: Vec<Region>,
}

impl Actor {
    pub fn anonymous() -> Actor {
        Actor {
            tenant_kind: None,
            roles: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// Roles and regions are kept sorted and unique: equal actors hash equally.
    pub fn new(
        tenant_kind: TenantKind,
        roles: impl IntoIterator<Item = Role>,
        regions: impl IntoIterator<Item = Region>,
    ) -> Actor {
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort();
        roles.dedup();
        let mut regions: Vec<Region> = regions.into_iter().collect();
        regions.sort();
        regions.dedup();
        Actor {
            tenant_kind: Some(tenant_kind),
            roles,
            regions,
        }
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn is_signed_in(&self) -> bool {
        self.tenant_kind.is_some()
    }
}

/// What is asked about, as seen from the actor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    pub kind: Kind,
    pub relation: Relation,
    pub region: Option<Region>,
    pub visibility: Visibility,
    delegated_scopes: Vec<DelegatedScope>,
    pub owner_kind: TenantKind,
    /// A product: the listing is ACTIVE. Everything else is always live.
    pub live: bool,
    /// The caller holds an open support window on the resource's tenant (only platform staff
    /// open them; what a window allows is the policy's to say).
    pub support_window: bool,
}

impl Resource {
    /// Delegated scopes are kept sorted and unique.
    pub fn new(
        kind: Kind,
        relation: Relation,
        region: Option<Region>,
        visibility: Visibility,
        delegated_scopes: impl IntoIterator<Item = DelegatedScope>,
        owner_kind: TenantKind,
    ) -> Resource {
        let mut delegated_scopes: Vec<DelegatedScope> = delegated_scopes.into_iter().collect();
        delegated_scopes.sort();
        delegated_scopes.dedup();
        Resource {
            kind,
            relation,
            region,
            visibility,
            delegated_scopes,
            owner_kind,
            live: true,
            support_window: false,
        }
    }

    /// The same facts as seen through an open support window on the resource's tenant (or
    /// not).
    pub fn in_support_window(mut self, open: bool) -> Resource {
        self.support_window = open;
        self
    }

    /// The same facts for a listing that is not ACTIVE (draft or inactive).
    pub fn not_live(mut self) -> Resource {
        self.live = false;
        self
    }

    pub fn delegated_scopes(&self) -> &[DelegatedScope] {
        &self.delegated_scopes
    }
}

/// The answer, with the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

impl Decision {
    pub const NO_RULE: &'static str = "no rule allows it";

    pub fn deny() -> Decision {
        Decision {
            allowed: false,
            reason: Decision::NO_RULE.to_owned(),
        }
    }
}
