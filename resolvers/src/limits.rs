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
use async_graphql::{ErrorExtensions, Pos, ServerError};

use crate::ErrorCode;

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

/// The costs declared on fields (async-graphql's `complexity`), against
/// `SchemaOptions::max_complexity`. A field costs 1 plus what it selects, except:
pub mod cost {
    use crate::pagination::{DEFAULT_PAGE, MAX_PAGE};

    /// A price reads the price loader and works the rules out: `price`, `listPrice`,
    /// `margin`, `priceFor`.
    pub const PRICE: usize = 5;
    /// A search runs a Tantivy query with facets before its page.
    pub const SEARCH: usize = 200;

    /// A page costs its items' cost times the page size asked for (the default page when
    /// none is given; out-of-range sizes are refused by the resolver, counted here at the cap).
    pub fn page(first: Option<i32>, items: usize) -> usize {
        let size = first.map_or(DEFAULT_PAGE, |n| n.clamp(1, MAX_PAGE as i32) as usize);
        size.saturating_mul(items).saturating_add(1)
    }

    /// A search: its own cost, then its page.
    pub fn search(first: Option<i32>, items: usize) -> usize {
        page(first, items).saturating_add(SEARCH)
    }

    /// A price field and what it selects.
    pub fn price(items: usize) -> usize {
        PRICE.saturating_add(items)
    }
}

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
    fn too_complex(message: String, pos: Option<Pos>) -> Self {
        Refusal {
            message,
            code: ErrorCode::QueryTooComplex,
            pos,
            field: None,
        }
    }

    pub fn into_server_error(self) -> ServerError {
        let (code, field) = (self.code, self.field);
        let error = async_graphql::Error::new(self.message).extend_with(|_, e| {
            e.set("code", code.as_str());
            if let Some(field) = &field {
                e.set("field", field.as_str());
            }
        });
        match self.pos {
            Some(pos) => error.into_server_error(pos),
            None => ServerError {
                locations: Vec::new(),
                ..error.into_server_error(Pos::default())
            },
        }
    }
}

/// Checks how deeply the text nests brackets, outside strings and comments. Runs before the
/// parser, whose recursion it bounds; linear in the text.
pub fn check_nesting(query: &str) -> Result<(), Refusal> {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next unescaped `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
                if depth > MAX_NESTING {
                    return Err(Refusal::too_complex(
                        format!("the document nests brackets more than {MAX_NESTING} deep"),
                        None,
                    ));
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
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

/// GraphQL's `Int` is 32 bits. async-graphql finds an integer beyond that only when it parses
/// the argument, deep in execution or in a cost function, and says neither which argument nor
/// that it is the caller's fault. Here every integer literal of the document (the schema takes
/// no `Float` input, so any integer is an `Int` or an `ID`) and every variable declared `Int`
/// is checked first: BAD_USER_INPUT, naming the argument or the variable.
pub fn check_int_inputs(
    document: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Result<(), Refusal> {
    use async_graphql::parser::types::BaseType;
    fn too_big(field: String, shown: String, pos: Option<Pos>) -> Refusal {
        Refusal {
            message: format!("{field}: {shown} is not an Int (from -2147483648 to 2147483647)"),
            code: ErrorCode::BadUserInput,
            pos,
            field: Some(field),
        }
    }
    fn outside(n: &async_graphql::Number) -> bool {
        (n.is_i64() || n.is_u64()) && n.as_i64().is_none_or(|v| i32::try_from(v).is_err())
    }
    fn literal(value: &async_graphql_value::Value) -> Option<&async_graphql::Number> {
        use async_graphql_value::Value;
        match value {
            Value::Number(n) if outside(n) => Some(n),
            Value::List(items) => items.iter().find_map(literal),
            Value::Object(fields) => fields.values().find_map(literal),
            _ => None,
        }
    }
    fn constant(value: &async_graphql::Value) -> Option<&async_graphql::Number> {
        use async_graphql::Value;
        match value {
            Value::Number(n) if outside(n) => Some(n),
            Value::List(items) => items.iter().find_map(constant),
            _ => None,
        }
    }
    fn fields(set: &SelectionSet) -> Result<(), Refusal> {
        for item in &set.items {
            let nested = match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        if let Some(n) = literal(&value.node) {
                            return Err(too_big(
                                name.node.to_string(),
                                n.to_string(),
                                Some(value.pos),
                            ));
                        }
                    }
                    &field.node.selection_set.node
                }
                Selection::InlineFragment(inline) => &inline.node.selection_set.node,
                Selection::FragmentSpread(_) => continue,
            };
            fields(nested)?;
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            let mut ty = &definition.node.var_type.node.base;
            while let BaseType::List(inner) = ty {
                ty = &inner.base;
            }
            let name = &definition.node.name.node;
            if matches!(ty, BaseType::Named(t) if t == "Int")
                && let Some(n) = variables.get(name).and_then(constant)
            {
                return Err(too_big(
                    format!("${name}"),
                    n.to_string(),
                    Some(definition.pos),
                ));
            }
        }
        fields(&operation.node.selection_set.node)?;
    }
    for definition in document.fragments.values() {
        fields(&definition.node.selection_set.node)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<(), Refusal> {
        check_nesting(query)?;
        let document = async_graphql::parser::parse_query(query).expect("parses");
        check_document(
            &document,
            &Limits {
                introspection: true,
                ..Limits::default()
            },
        )
    }

    /// `fragment F{i} on Tenant { ...F{i-1} ...F{i-1} }`: 2^levels selections once expanded.
    fn fan_out(levels: usize) -> String {
        let mut doc = String::from("query { tenant { ...F0 } }\nfragment F0 on Tenant { slug }\n");
        for i in 1..=levels {
            doc.push_str(&format!(
                "fragment F{i} on Tenant {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        doc.replace("...F0 } }\n", &format!("...F{levels} }} }}\n"))
    }

    #[test]
    fn a_fragment_fan_out_is_measured_without_expanding_it() {
        let refusal = check(&fan_out(30)).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::QueryTooComplex);
        assert!(
            refusal.message.contains("selections"),
            "{}",
            refusal.message
        );
        // Deeper than async-graphql's own recursion limit: refused as a chain.
        let refusal = check(&fan_out(60)).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::QueryTooComplex);
        // Small fan-outs are ordinary documents.
        check(&fan_out(3)).expect("eight selections are fine");
    }

    #[test]
    fn aliases_and_root_fields_are_counted_through_fragments() {
        let aliases: String = (0..40).map(|i| format!("a{i}: __typename ")).collect();
        let refusal = check(&format!("{{ tenant {{ {aliases} }} }}")).unwrap_err();
        assert!(refusal.message.contains("aliases"), "{}", refusal.message);
        let roots: String = (0..25).map(|i| format!("f{i}: tenant {{ id }} ")).collect();
        let refusal = check(&format!(
            "query {{ ...R }} fragment R on Query {{ {roots} }}"
        ))
        .unwrap_err();
        assert!(
            refusal.message.contains("root fields"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn cycles_and_long_fragment_chains_are_refused() {
        let refusal = check(
            "{ tenant { ...A } } fragment A on Tenant { ...B } fragment B on Tenant { ...A }",
        )
        .unwrap_err();
        assert!(
            refusal.message.contains("spreads itself"),
            "{}",
            refusal.message
        );
        let mut chain = String::from("{ tenant { ...F0 } }\n");
        for i in 0..100 {
            chain.push_str(&format!("fragment F{i} on Tenant {{ ...F{} }}\n", i + 1));
        }
        chain.push_str("fragment F100 on Tenant { id }\n");
        let refusal = check(&chain).unwrap_err();
        assert!(
            refusal.message.contains("inside each other"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn introspection_has_its_own_depth_and_can_be_switched_off() {
        let type_ref = "kind name ofType { ".repeat(9) + "kind name" + &" }".repeat(9);
        let query = format!(
            "{{ __schema {{ types {{ fields {{ args {{ type {{ {type_ref} }} }} }} }} }} }}"
        );
        check(&query).expect("graphql-js's introspection depth passes");
        let document = async_graphql::parser::parse_query(&query).unwrap();
        let refusal = check_document(&document, &Limits::default()).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::Forbidden);
        assert!(refusal.message.contains("introspection is disabled"));
        // `__typename` is not introspection.
        let document = async_graphql::parser::parse_query("{ __typename }").unwrap();
        check_document(&document, &Limits::default()).expect("__typename is fine");
    }

    #[test]
    fn integers_beyond_32_bits_name_their_argument_or_variable() {
        let document =
            async_graphql::parser::parse_query("{ customers(first: 2147483648) { totalCount } }")
                .unwrap();
        let refusal = check_int_inputs(&document, &Default::default()).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::BadUserInput);
        assert_eq!(refusal.field.as_deref(), Some("first"));
        let document = async_graphql::parser::parse_query(
            "query($q: Int!) { products(first: 1) { edges { node { price(quantity: $q) { source } } } } }",
        )
        .unwrap();
        let variables =
            async_graphql::Variables::from_json(serde_json::json!({ "q": -2147483649i64 }));
        let refusal = check_int_inputs(&document, &variables).unwrap_err();
        assert_eq!(refusal.field.as_deref(), Some("$q"));
        let variables = async_graphql::Variables::from_json(serde_json::json!({ "q": 2147483647 }));
        check_int_inputs(&document, &variables).expect("the largest Int is an Int");
    }

    #[test]
    fn data_depth_is_limited() {
        let deep = "{ tenant ".to_owned() + &"{ a ".repeat(12) + &"}".repeat(13);
        let refusal = check(&deep).unwrap_err();
        assert!(
            refusal.message.contains("nested too deep"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn bracket_nesting_is_bounded_before_parsing_outside_strings_and_comments() {
        let deep = "{ a ".repeat(20_000);
        let refusal = check_nesting(&deep).unwrap_err();
        assert!(
            refusal.message.contains("nests brackets"),
            "{}",
            refusal.message
        );
        let quoted = format!(
            "{{ search(query: \"{}\") {{ total }} }} # {}\n",
            "{".repeat(500),
            "(".repeat(500)
        );
        check_nesting(&quoted).expect("brackets in strings and comments do not count");
        let block = format!(
            "{{ search(query: \"\"\"{}\"\"\") {{ total }} }}",
            "[".repeat(500)
        );
        check_nesting(&block).expect("nor in block strings");
    }
}
