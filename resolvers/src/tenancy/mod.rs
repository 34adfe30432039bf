//! Customers, delegations and `node`: tenancy objects the policy applies to. Every object is
//! looked up inside the scope the policy derives, post-checked against the policy, and another
//! tenant's object is NOT_FOUND (never FORBIDDEN: existence does not leak).

mod customers;
mod delegations;
mod node;

pub use customers::{Customer, CustomerConnection, CustomerStatus, customer, customers};
pub use delegations::{DelegatedScope, Delegation, DelegationStatus, delegations};
pub use node::{Node, node};
