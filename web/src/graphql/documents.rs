//! The `Documents` cache: parsed GraphQL documents by query text, and the type of the
//! operation a request runs.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// Parsed documents by query text. Portals send the same few operations over and over;
/// parsing one again costs more than the rest of a small query's execution. Validation still
/// runs on every request: it depends on the schema only, but it is the schema's guard.
pub struct Documents {
    cache: quick_cache::sync::Cache<String, ExecutableDocument>,
}

/// Longer query texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 8 * 1024;

impl Documents {
    pub fn new(entries: usize) -> Self {
        Documents {
            cache: quick_cache::sync::Cache::new(entries.max(1)),
        }
    }

    /// Hands the request its parsed document when it is known or parses cleanly, and says
    /// whether it runs a mutation. A query that does not parse (or nests too deep to be parsed)
    /// is left to the executor, which refuses it before it runs: it writes nothing.
    pub(super) fn prepare(
        &self,
        mut request: async_graphql::Request,
    ) -> (async_graphql::Request, bool) {
        let Some(document) = self.parsed(&request.query) else {
            return (request, false);
        };
        let mutation = operation_type(&document, request.operation_name.as_deref())
            == Some(OperationType::Mutation);
        request.set_parsed_query(document);
        (request, mutation)
    }

    /// The parsed query, from the cache or parsed now (and kept when it is short enough).
    pub(super) fn parsed(&self, query: &str) -> Option<ExecutableDocument> {
        if let Some(document) = self.cache.get(query) {
            return Some(document);
        }
        // The parser recurses once per bracket: a document nested too deep is left to the
        // schema, which refuses it without parsing.
        portico_resolvers::limits::check_nesting(query).ok()?;
        let document = async_graphql::parser::parse_query(query).ok()?;
        if query.len() <= MAX_CACHED_QUERY_BYTES {
            self.cache.insert(query.to_owned(), document.clone());
        }
        Some(document)
    }
}

/// The type of the operation a request runs: the named one, or the document's first.
pub(super) fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op.node.ty),
            None => ops.values().next().map(|op| op.node.ty),
        },
    }
}
