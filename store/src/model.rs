//! Domain model types shared by the repositories and the layers above.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A tenant's id. Ids are UUIDs kept as text so the same column type serves both backends.
pub type TenantId = String;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = crate::StoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(crate::StoreError::Corrupt(format!(
                        concat!("unknown ", stringify!($name), " {:?}"), other
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// Where a tenant sits in the tree: one platform, its resellers, their customers.
    TenantKind { Platform = "PLATFORM", Reseller = "RESELLER", Customer = "CUSTOMER" }
);
text_enum!(Region { Eu = "EU", Na = "NA", Apac = "APAC" });
text_enum!(
    Role {
        PlatformAdmin = "platform_admin",
        ResellerAdmin = "reseller_admin",
        PricingManager = "pricing_manager",
        SalesRep = "sales_rep",
        Support = "support",
        CustomerAdmin = "customer_admin",
        Buyer = "buyer",
        Viewer = "viewer",
    }
);
text_enum!(
    DelegatedScope {
        UserAdmin = "USER_ADMIN",
        SettingsAdmin = "SETTINGS_ADMIN",
        SupportReadonly = "SUPPORT_READONLY",
    }
);
text_enum!(
    /// The stored state of a delegation; `Delegation::is_active` adds the expiry.
    DelegationStatus {
        Pending = "PENDING",
        Active = "ACTIVE",
        // Declined by the customer. Stored as `REJECTED` (the first migrations' word, kept:
        // the CHECK constraints and the hash-chained audit states already hold it); GraphQL
        // says `DECLINED`, the vocabulary.
        Declined = "REJECTED",
        Revoked = "REVOKED",
        Expired = "EXPIRED",
    }
);
text_enum!(ListingStatus { Draft = "DRAFT", Active = "ACTIVE", Inactive = "INACTIVE" });
text_enum!(Visibility { All = "ALL", Restricted = "RESTRICTED" });

/// Parses a comma-separated list of codes (`"EU,NA"`) as stored in text columns.
pub fn parse_list<T: FromStr<Err = crate::StoreError>>(
    s: &str,
) -> Result<Vec<T>, crate::StoreError> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

/// Joins codes into the stored comma-separated form.
pub fn join_list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub parent_id: Option<TenantId>,
    pub kind: TenantKind,
    pub slug: String,
    pub name: String,
    pub region: Option<Region>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Set while the tenant is suspended (customers, by their reseller): its users are refused
    /// at sign-in and on every request; its rows stay.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Why, as the reseller's admin gave it; set exactly when `suspended_at` is.
    pub suspended_reason: Option<String>,
    /// A customer's settings (its own admin's, or its reseller's admins' under
    /// SETTINGS_ADMIN): whom to contact, by email and by phone; `None` when not given.
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// Bumped by every change to the tenant's own row (optimistic concurrency).
    pub version: i64,
}

impl Tenant {
    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub host: String,
    pub tenant_id: TenantId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub id: String,
    pub tenant_id: TenantId,
    pub issuer_url: String,
    pub client_id: String,
    /// A reference to where the secret lives (`env:NAME`), never the secret itself.
    pub client_secret_ref: Option<String>,
    pub audience: String,
    pub algorithms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub tenant_id: TenantId,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub display_name: String,
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Bumped by every change to the user or its roles (optimistic concurrency).
    pub version: i64,
    /// Set while the user is an invitation nobody has accepted yet (no identity bound).
    pub invited_at: Option<DateTime<Utc>>,
}

impl User {
    /// Invited, active or deactivated.
    pub fn status(&self) -> UserStatus {
        if self.invited_at.is_some() {
            UserStatus::Invited
        } else if self.deactivated_at.is_some() {
            UserStatus::Deactivated
        } else {
            UserStatus::Active
        }
    }
}

text_enum!(UserStatus { Invited = "INVITED", Active = "ACTIVE", Deactivated = "DEACTIVATED" });

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub tenant_id: TenantId,
    pub user_id: String,
    pub role: Role,
    pub regions: Vec<Region>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub id: String,
    /// The customer that delegates.
    pub customer_id: TenantId,
    pub reseller_id: TenantId,
    pub scopes: Vec<DelegatedScope>,
    pub status: DelegationStatus,
    pub requested_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The end: while pending, the end it would have if approved now; once approved, its end.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The reseller's note to the customer with the request.
    pub message: Option<String>,
    /// How long it runs once approved (`None` on delegations made before durations existed).
    pub duration_days: Option<i64>,
    /// Extended by 180 days when it reaches its end instead of expiring.
    pub auto_extend: bool,
    /// When it stopped: declined, revoked, expired or lapsed.
    pub ended_at: Option<DateTime<Utc>>,
    /// The user who ended it (`None` when it expired or lapsed, or is still open).
    pub ended_by: Option<String>,
    /// The reseller's staff it is assigned to: only they may use its scopes.
    pub assignees: Vec<String>,
}

/// A time-bound, read-only support window a platform admin opened on one tenant, with a
/// reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportWindow {
    pub id: String,
    /// The tenant looked at.
    pub tenant_id: TenantId,
    /// The platform tenant of the admin who opened it.
    pub actor_tenant_id: TenantId,
    /// The admin who opened it: only they read through it.
    pub user_id: String,
    /// The opener's email as it was when they opened it.
    pub user_email: String,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When it was ended early.
    pub ended_at: Option<DateTime<Utc>>,
    /// Who ended it early.
    pub ended_by: Option<String>,
}

impl SupportWindow {
    /// Open: not ended early and not past its end.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && self.ends_at > now
    }
}

impl Delegation {
    /// A delegation counts only while approved and unexpired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.status == DelegationStatus::Active && self.expires_at > now
    }

    /// Whether `user_id` may use the delegation's scopes now: active, and assigned to them.
    pub fn usable_by(&self, user_id: &str, now: DateTime<Utc>) -> bool {
        self.is_active(now) && self.assignees.iter().any(|a| a == user_id)
    }
}

/// A listing as a customer or the reseller sees it: master values with the listing's overrides
/// applied (override wins, master fills the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub id: String,
    pub tenant_id: TenantId,
    pub master_product_id: Option<String>,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub supplier: Option<String>,
    pub status: ListingStatus,
    pub visibility: Visibility,
    pub cost: Option<Money>,
    pub regions: Vec<Region>,
    pub version: i64,
}

/// Money in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// Why `Money::parse` refused its input: `field` names the input at fault (`amount` or
/// `currency`); it prints as `field: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct MoneyError {
    pub field: &'static str,
    pub message: String,
}

impl MoneyError {
    fn amount(message: impl Into<String>) -> Self {
        MoneyError {
            field: "amount",
            message: message.into(),
        }
    }

    fn currency(message: impl Into<String>) -> Self {
        MoneyError {
            field: "currency",
            message: message.into(),
        }
    }
}

impl Money {
    /// The largest amount Portico accepts in one price (in major units).
    pub const MAX_MAJOR: i64 = 10_000_000;

    /// Parses a decimal amount such as `999.00` in `currency` (three capital letters): no
    /// negative amounts, no more digits than the currency's minor unit, at most `MAX_MAJOR`.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, MoneyError> {
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(MoneyError::currency(
                "must be three capital letters (ISO 4217), e.g. EUR",
            ));
        }
        let digits = Self::minor_digits(currency) as usize;
        let amount = amount.trim();
        let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
        let numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty()
            || !numeric(whole)
            || !numeric(fraction)
            || (amount.contains('.') && fraction.is_empty())
        {
            return Err(MoneyError::amount(format!(
                "{amount:?} is not a non-negative decimal number"
            )));
        }
        if fraction.len() > digits {
            return Err(MoneyError::amount(format!(
                "{currency} has {digits} decimal places at most"
            )));
        }
        let major: i64 = whole
            .parse()
            .ok()
            .filter(|m| *m <= Self::MAX_MAJOR)
            .ok_or_else(|| MoneyError::amount(format!("at most {} {currency}", Self::MAX_MAJOR)))?;
        let minor: i64 = format!("{fraction:0<digits$}").parse().unwrap_or(0);
        let scale = 10_i64.pow(digits as u32);
        let total = major * scale + minor;
        if major == Self::MAX_MAJOR && minor > 0 {
            return Err(MoneyError::amount(format!(
                "at most {} {currency}",
                Self::MAX_MAJOR
            )));
        }
        Ok(Money::new(total, currency))
    }

    pub fn new(amount_minor: i64, currency: &str) -> Self {
        Money {
            amount_minor,
            currency: currency.to_owned(),
        }
    }

    /// Digits after the decimal point for the currencies Portico prices in.
    pub fn minor_digits(currency: &str) -> u32 {
        match currency {
            "JPY" | "KRW" => 0,
            _ => 2,
        }
    }

    /// `"1200.00"`: the decimal form GraphQL shows.
    pub fn decimal(&self) -> String {
        let digits = Self::minor_digits(&self.currency);
        if digits == 0 {
            return self.amount_minor.to_string();
        }
        let scale = 10_i64.pow(digits);
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        let scale = scale.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = digits as usize
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub tenant_id: TenantId,
    pub seq: i64,
    pub actor: String,
    pub actor_tenant: TenantId,
    pub action: String,
    pub target: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

/// What a change wants recorded; the store adds sequence, time and hashes.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub actor: String,
    pub actor_tenant: TenantId,
    pub action: String,
    pub target: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub reason: Option<String>,
}

impl NewAuditEntry {
    /// This actor's entry for one change: its action and target, no states yet.
    pub fn of(&self, action: &str, target: String) -> NewAuditEntry {
        NewAuditEntry {
            action: action.to_owned(),
            target,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_decimals_within_the_currency_and_the_limit() {
        assert_eq!(
            Money::parse("999.00", "EUR").unwrap(),
            Money::new(99_900, "EUR")
        );
        assert_eq!(
            Money::parse("999.5", "EUR").unwrap(),
            Money::new(99_950, "EUR")
        );
        assert_eq!(Money::parse("12", "USD").unwrap(), Money::new(1_200, "USD"));
        assert_eq!(
            Money::parse("1200", "JPY").unwrap(),
            Money::new(1_200, "JPY")
        );
        for (amount, currency, why) in [
            ("-1.00", "EUR", "non-negative"),
            ("1.005", "EUR", "decimal places"),
            ("1.5", "JPY", "decimal places"),
            ("10000000.01", "EUR", "at most"),
            ("99999999999", "EUR", "at most"),
            ("1e3", "EUR", "non-negative decimal"),
            ("", "EUR", "non-negative decimal"),
            ("1.", "EUR", "non-negative decimal"),
            ("1.00", "eur", "three capital letters"),
        ] {
            let err = Money::parse(amount, currency).unwrap_err();
            assert!(err.to_string().contains(why), "{amount} {currency}: {err}");
        }
    }

    #[test]
    fn money_prints_minor_units_as_decimals() {
        assert_eq!(Money::new(120_000, "EUR").decimal(), "1200.00");
        assert_eq!(Money::new(99_905, "USD").decimal(), "999.05");
        assert_eq!(Money::new(7, "EUR").decimal(), "0.07");
        assert_eq!(Money::new(-150, "EUR").decimal(), "-1.50");
        assert_eq!(Money::new(1500, "JPY").decimal(), "1500");
    }

    #[test]
    fn codes_round_trip_through_their_text_form() {
        for r in Region::ALL {
            assert_eq!(r.as_str().parse::<Region>().unwrap(), *r);
        }
        assert_eq!(
            parse_list::<Region>("EU,NA").unwrap(),
            vec![Region::Eu, Region::Na]
        );
        assert_eq!(join_list(&[Region::Eu, Region::Apac]), "EU,APAC");
        assert!("XX".parse::<Region>().is_err());
    }
}
