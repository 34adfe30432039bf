//! `portico-search` owns the per-tenant Tantivy indexes (one per catalog-owning tenant, under
//! `<data dir>/search/<tenant id>/`), the indexer that tails the outbox, and query building.
//!
//! It never decides what a caller may see: every search takes a [`Visibility`], built by the
//! resolvers from the policy's catalog predicates (the same value that filters the catalog's
//! SQL), and applies it as a mandatory clause. User text is tokenized, never parsed as query
//! syntax, so it cannot name a field or widen the filter. Prices and costs are never indexed:
//! hits are resolved to products through the database, where prices and masks apply.

mod document;
mod error;
mod expand;
mod filter;
mod generation;
mod highlight;
mod indexer;
mod query;
mod service;
mod suggest;
mod synonyms;

pub use error::SearchError;
pub use indexer::{Indexer, IndexerOptions};
pub use query::{FacetCounts, Highlight, Hit, SearchRequest, SearchResults, Visibility};
pub use service::{IndexState, SearchOptions, SearchService};
pub use synonyms::{MAX_SYNONYM_CHARS, Synonyms, synonym_word};

/// Bumped whenever the index schema or the document mapping changes: an index written by an
/// older build is rebuilt from the database at start.
pub const SCHEMA_VERSION: u32 = 2;
