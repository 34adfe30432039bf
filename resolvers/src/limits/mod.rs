//! Limits on a GraphQL document, checked before async-graphql validates it.
//!
//! async-graphql computes depth and complexity by walking the document with every fragment
//! spread expanded in place, so a kilobyte of fragments that each spread the previous one twice
//! costs it 2^n steps before it can refuse the document. Here each fragment is measured once and
//! its measure reused wherever it is spread, so the whole check costs time proportional to the
//! document's size, and anything over a limit is refused before any expansion happens.
//!
//! Measured per document (every operation and every fragment definition, since validation walks
//! them all): the selections it makes once fragments are expanded, its aliases, its root fields,
//! its depth (introspection's own, deeper shape is measured apart), and how deeply it nests
//! brackets in its text (the parser recurses on them).

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerError};

use crate::ErrorCode;

pub mod cost;
mod ints;
mod nesting;
#[cfg(test)]
mod tests;

pub use ints::check_int_inputs;
pub use nesting::check_nesting;

/// The limits a document must stay within. Built from configuration by the server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Nesting of fields that read data (`{ a { b } }` is 2).
    pub max_depth: usize,
    /// Selections once fragments are expanded: fields, spreads and inline fragments, summed over
    /// the operations and fragment definitions of the document.
    pub max_selections: usize,
    /// Aliased fields once fragments are expanded.
    pub max_aliases: usize,
    /// Fields at the root of one operation (through fragments too).
    pub max_root_fields: usize,
    /// Whether `__schema` and `__type` may be asked for at all.
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 12,
            max_selections: 2000,
            max_aliases: 30,
            max_root_fields: 20,
            introspection: false,
        }
    }
}

/// Introspection's own shape nests deeper than data queries: graphql-js's standard
/// introspection query reaches 15 (`__schema` → types → fields → args → type → nine `ofType`).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

/// Brackets nested in the document's text. The parser recurses once per level (and a few
/// frames each), so this bounds its stack whatever the body size; no real query comes near.
pub const MAX_NESTING: usize = 64;

/// Fragments spread inside fragments inside …: async-graphql's own recursion limit is 32.
const MAX_FRAGMENT_CHAIN: usize = 32;

/// Why a document is refused, with where in the document when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub code: ErrorCode,
    pub pos: Option<Pos>,
    /// The argument or variable at fault, for BAD_USER_INPUT.
    pub field: Option<String>,
}

impl Refusal {
    pub(crate) fn too_complex(message: String, pos: Option<Pos>) -> Self {
        Refusal {
            message,
            code: ErrorCode::QueryTooComplex,
            pos,
            field: None,
        }
    }

    pub fn into_server_error(self) -> ServerError {
        let mut error = ServerError::new(self.message, self.pos);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", self.code.as_str());
        if let Some(field) = &self.field {
            extensions.set("field", field.as_str());
        }
        error
    }
}

/// What a selection set costs once expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    selections: u64,
    aliases: u64,
    /// Fields directly in the set (through spreads and inline fragments too).
    width: u64,
    depth: u64,
    introspection_depth: u64,
    introspects: bool,
    first_introspection: Option<Pos>,
}

impl Measure {
    /// `other`'s selections taken into this set at the same level (a spread, an inline
    /// fragment).
    fn absorb(&mut self, other: &Measure) {
        self.selections = self.selections.saturating_add(other.selections);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.width = self.width.saturating_add(other.width);
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.introspects |= other.introspects;
        self.first_introspection = self.first_introspection.or(other.first_introspection);
    }
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    measured: HashMap<&'a str, Measure>,
    /// The fragments being measured, innermost last: a cycle, and the chain's length.
    open: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn fragment(&mut self, name: &'a str, pos: Pos) -> Result<Measure, Refusal> {
        if let Some(m) = self.measured.get(name) {
            return Ok(*m);
        }
        if self.open.contains(&name) {
            return Err(Refusal::too_complex(
                format!("fragment {name} spreads itself"),
                Some(pos),
            ));
        }
        if self.open.len() >= MAX_FRAGMENT_CHAIN {
            return Err(Refusal::too_complex(
                format!(
                    "fragments are spread inside each other more than {MAX_FRAGMENT_CHAIN} deep"
                ),
                Some(pos),
            ));
        }
        // An unknown fragment costs nothing here; validation names it.
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(Measure::default());
        };
        self.open.push(name);
        let measure = self.set(&definition.node.selection_set.node);
        self.open.pop();
        let measure = measure?;
        self.measured.insert(name, measure);
        Ok(measure)
    }

    fn set(&mut self, set: &'a SelectionSet) -> Result<Measure, Refusal> {
        let mut m = Measure::default();
        for item in &set.items {
            let directives = item.node.directives().len() as u64;
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let sub = self.set(&field.selection_set.node)?;
                    m.selections = m
                        .selections
                        .saturating_add(1 + directives)
                        .saturating_add(sub.selections);
                    m.aliases = m
                        .aliases
                        .saturating_add(u64::from(field.alias.is_some()))
                        .saturating_add(sub.aliases);
                    m.width = m.width.saturating_add(1);
                    if matches!(field.name.node.as_str(), "__schema" | "__type") {
                        m.introspects = true;
                        m.first_introspection = m.first_introspection.or(Some(field.name.pos));
                        m.introspection_depth = m
                            .introspection_depth
                            .max(1 + sub.depth.max(sub.introspection_depth));
                    } else {
                        m.depth = m.depth.max(1 + sub.depth);
                        m.introspection_depth = m.introspection_depth.max(sub.introspection_depth);
                        m.introspects |= sub.introspects;
                        m.first_introspection = m.first_introspection.or(sub.first_introspection);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name;
                    let sub = self.fragment(name.node.as_str(), name.pos)?;
                    m.selections = m.selections.saturating_add(1 + directives);
                    m.absorb(&sub);
                }
                Selection::InlineFragment(inline) => {
                    let sub = self.set(&inline.node.selection_set.node)?;
                    m.selections = m.selections.saturating_add(1 + directives);
                    m.absorb(&sub);
                }
            }
        }
        Ok(m)
    }
}

/// Everything checked before a request's document runs: bracket nesting (before parsing), then
/// the parsed document against the limits, then its integers. The guard runs it; so does the
/// server before it runs a query on the schema without the guard.
pub fn check_request(
    request: &mut async_graphql::Request,
    limits: &Limits,
) -> Result<(), ServerError> {
    check_nesting(&request.query).map_err(Refusal::into_server_error)?;
    let variables = std::mem::take(&mut request.variables);
    let checked = match request.parsed_query() {
        Ok(document) => {
            check_document(document, limits).and_then(|()| check_int_inputs(document, &variables))
        }
        // A document that does not parse is left to async-graphql, which reports where.
        Err(_) => Ok(()),
    };
    request.variables = variables;
    checked.map_err(Refusal::into_server_error)
}

/// Checks a parsed document against the limits, in time proportional to its size.
pub fn check_document(document: &ExecutableDocument, limits: &Limits) -> Result<(), Refusal> {
    let mut walker = Walker {
        document,
        measured: HashMap::new(),
        open: Vec::new(),
    };
    let mut total = Measure::default();
    for (_, operation) in document.operations.iter() {
        let m = walker.set(&operation.node.selection_set.node)?;
        if m.width > limits.max_root_fields as u64 {
            return Err(Refusal::too_complex(
                format!(
                    "an operation asks for {} root fields, at most {} are allowed",
                    m.width, limits.max_root_fields
                ),
                Some(operation.pos),
            ));
        }
        total.absorb(&m);
    }
    // Validation walks every fragment definition too, used or not.
    for (name, definition) in &document.fragments {
        let m = walker.fragment(name.as_str(), definition.pos)?;
        total.selections = total.selections.saturating_add(m.selections);
    }
    if total.selections > limits.max_selections as u64 {
        return Err(Refusal::too_complex(
            format!(
                "the document makes {} selections once its fragments are expanded, at most {} are allowed",
                total.selections, limits.max_selections
            ),
            None,
        ));
    }
    if total.aliases > limits.max_aliases as u64 {
        return Err(Refusal::too_complex(
            format!(
                "the document uses {} aliases once its fragments are expanded, at most {} are allowed",
                total.aliases, limits.max_aliases
            ),
            None,
        ));
    }
    if total.depth > limits.max_depth as u64 {
        return Err(Refusal::too_complex(
            format!(
                "the query is nested too deep: {} levels, at most {} are allowed",
                total.depth, limits.max_depth
            ),
            None,
        ));
    }
    if total.introspects && !limits.introspection {
        return Err(Refusal {
            message: "introspection is disabled on this server".into(),
            code: ErrorCode::Forbidden,
            pos: total.first_introspection,
            field: None,
        });
    }
    if total.introspection_depth > MAX_INTROSPECTION_DEPTH as u64 {
        return Err(Refusal::too_complex(
            format!(
                "the introspection query is nested too deep: {} levels, at most {MAX_INTROSPECTION_DEPTH} are allowed",
                total.introspection_depth
            ),
            None,
        ));
    }
    Ok(())
}
