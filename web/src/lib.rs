//! `portico`, the server binary's crate: configuration, the command line, the axum router and
//! its layers (request ids, tracing, limits), portal resolution from the `Host` header, the
//! GraphQL-over-HTTP endpoint, health checks and the demo pages.
//!
//! It wires the other crates together and owns no domain logic: data goes through
//! `portico-store`, GraphQL through `portico-resolvers`.

pub mod app;
mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
/// The demo issuer under its former path (`portico::demo_issuer::DemoKeys`).
pub mod demo_issuer {
    pub use crate::demo::{DEMO_AUDIENCE, DEMO_CLIENT_ID, DemoIssuer, DemoIssuerError, DemoKeys};
}
pub mod error;
pub mod graphql;
mod html;
pub mod portal;
pub mod signing;
pub mod telemetry;

pub use app::{Application, DataState, router};
pub use config::Config;
