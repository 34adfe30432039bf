//! The demo dataset of DESIGN section 9: deterministic (same ids and rows every time) and
//! idempotent (a second run finds its marker and changes nothing).
//!
//! The seed is built as plain data first (`demo_statements`), so its facts can be tested without a
//! database, then written in one transaction. This module owns the seed's version, the demo
//! issuer and the deterministic ids; its parts are:
//!
//! - `builder`: the row types (`Statement`, `Value`) and the helpers that build one row each;
//! - `products`: the generated master catalog and its brand and product-type tables;
//! - `dataset`: the fixed demo tenants, users, delegations, listings, prices and marker rows;
//! - `writer`: `Store::seed_demo`, which writes the statements to SQLite or PostgreSQL.

use uuid::Uuid;

mod builder;
mod dataset;
mod products;
mod writer;

pub use builder::{Statement, Value};
pub use dataset::{demo_statements, demo_tenant_ids};
pub use products::{MASTER_PRODUCTS, MasterProduct, master_products};

/// Bump when the demo dataset changes; a database seeded with another version is left alone
/// and reported.
pub const DEMO_SEED_VERSION: &str = "1";

/// The issuer the demo users are registered under, until the identity issue replaces it with
/// the built-in demo issuer's URL.
pub const DEMO_ISSUER: &str = "urn:portico:demo";

const NS: Uuid = Uuid::from_u128(0x5f0c_7a1e_8d2b_4c3a_9e61_2b7d_4f10_a001);

/// The deterministic id of a demo object, e.g. `demo_id("tenant", "northwind")`.
pub fn demo_id(kind: &str, key: &str) -> String {
    Uuid::new_v5(&NS, format!("{kind}:{key}").as_bytes()).to_string()
}

/// What `seed_demo` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    Seeded { statements: usize },
    AlreadySeeded { version: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_seed_is_the_same_every_time() {
        assert_eq!(demo_statements(), demo_statements());
    }

    #[test]
    fn the_master_catalog_has_at_least_500_distinct_products_led_by_the_acme_drill() {
        let masters = master_products();
        assert!(masters.len() >= 500);
        let skus: HashSet<_> = masters.iter().map(|m| &m.sku).collect();
        assert_eq!(skus.len(), masters.len(), "SKUs are unique");
        assert_eq!(masters[0].sku, "ACM-DRL-18");
        assert_eq!(masters[0].name, "Acme Cordless Drill 18V");
        let brands: HashSet<_> = masters.iter().map(|m| m.brand).collect();
        assert!(brands.len() >= 8);
    }

    #[test]
    fn resellers_list_as_many_products_as_the_design_asks() {
        let st = demo_statements();
        let count = |tenant: &str| {
            st.iter()
                .filter(|s| {
                    s.table == "listings" && s.text("tenant_id") == Some(&demo_id("tenant", tenant))
                })
                .count()
        };
        assert!(
            count("northwind") >= 300,
            "northwind lists {}",
            count("northwind")
        );
        assert!(
            count("contoso") >= 250,
            "contoso lists {}",
            count("contoso")
        );
    }

    #[test]
    fn every_row_has_as_many_values_as_columns() {
        for st in demo_statements() {
            assert_eq!(st.columns.len(), st.values.len(), "{}", st.table);
        }
    }
}
