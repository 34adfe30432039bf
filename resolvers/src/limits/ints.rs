//! Integers beyond 32 bits, found before execution and named.

use async_graphql::Pos;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::Refusal;
use crate::ErrorCode;

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
