//! The schema's one extension. It does two things async-graphql does not do on its own:
//!
//! - **Refuses documents over the limits before anything expands them** (`limits`): the text's
//!   bracket nesting before parsing, then the parsed document, in time proportional to its size.
//! - **Nulls field errors the way the GraphQL spec says** (§6.4.4 "Handling Field Errors").
//!   async-graphql catches a field's error in the object holding it and drops the field's key;
//!   an object whose fields all failed becomes `null` even where its type is non-null
//!   (async-graphql issues #1272 and #1549). Here an error in a nullable field makes that field
//!   `null`, keeping its key; an error in a non-null field makes its parent `null`, and so on up
//!   to the nearest nullable field or list item, or to `data` itself. Each error is reported
//!   once, with its path.
//!
//! It also gives argument-parsing errors (`first: 2147483648`) the code and field they lack.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextResolve,
    ResolveInfo,
};
use async_graphql::parser::types::Field;
use async_graphql::{QueryPathSegment, Request, Response, ServerError, ServerResult, Value};

use crate::ErrorCode;
use crate::limits::{self, Limits};

/// Makes a [`GuardExtension`] per request.
pub struct Guard {
    limits: Arc<Limits>,
}

impl Guard {
    pub fn new(limits: Limits) -> Self {
        Guard {
            limits: Arc::new(limits),
        }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension {
            limits: self.limits.clone(),
            errors: Mutex::new(Vec::new()),
            poisoned: Mutex::new(HashSet::new()),
            failed_items: Mutex::new(HashSet::new()),
            any_poisoned: AtomicBool::new(false),
            data_poisoned: AtomicBool::new(false),
        })
    }
}

pub struct GuardExtension {
    limits: Arc<Limits>,
    /// Field errors caught here, added to the response once execution ends.
    errors: Mutex<Vec<ServerError>>,
    /// Paths of values that must become `null` because a non-null field in them failed.
    poisoned: Mutex<HashSet<String>>,
    /// Paths of lists with an item that failed (nulled in place; `[T!]` lists become null).
    failed_items: Mutex<HashSet<String>>,
    /// Whether `poisoned` or `failed_items` holds anything: the common case then costs one atomic load per field.
    any_poisoned: AtomicBool,
    /// A non-null root field failed: `data` itself is `null`.
    data_poisoned: AtomicBool,
}

impl GuardExtension {
    fn lock_poisoned(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.poisoned.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn report(&self, error: ServerError) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(error);
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        limits::check_request(&mut request, &self.limits)?;
        next.run(ctx, request).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let caught = std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner()));
        response.errors.extend(caught);
        if self.data_poisoned.load(Ordering::Acquire) {
            response.data = Value::Null;
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Kept apart: `next` takes `info`.
        let (path, field) = (info.path_node, info.field);
        // A list item's `return_type` is wrong in async-graphql (a `&T` item always reads as
        // non-null), so an item never decides: its list does, from the list field's own type.
        let item = matches!(path.segment, QueryPathSegment::Index(_));
        let items_non_null = list_items_non_null(info.return_type);
        let nullable = !info.return_type.ends_with('!');
        let error = match next.run(ctx, info).await {
            Ok(value) if !self.take_poison_at(path) => {
                if items_non_null && self.take_failed_item_in(path) {
                    // An item of `[T!]` failed: the list is null, as a field of its own.
                    None
                } else {
                    return Ok(value);
                }
            }
            // A non-null field inside failed and was reported there; this value is null.
            Ok(_) => None,
            Err(error) => Some(error),
        };
        if let Some(error) = error {
            self.report(classify(error, field));
        }
        if item {
            self.fail_item_of(path);
        } else if !nullable {
            self.poison_parent_of(path);
        }
        Ok(Some(Value::Null))
    }
}

/// Whether a list type's items are non-null: `[T!]` or `[T!]!`. Not a list: false.
fn list_items_non_null(ty: &str) -> bool {
    ty.trim_end_matches('!')
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .is_some_and(|inner| inner.ends_with('!'))
}

impl GuardExtension {
    /// Whether a non-null field inside the value at `path` failed.
    fn take_poison_at(&self, path: &async_graphql::QueryPathNode<'_>) -> bool {
        self.any_poisoned.load(Ordering::Acquire) && self.lock_poisoned().remove(&path.to_string())
    }

    /// Notes that an item of the list at `path`'s parent failed (and is null in place).
    fn fail_item_of(&self, path: &async_graphql::QueryPathNode<'_>) {
        if let Some(list) = path.parent {
            self.lock_failed_items().insert(list.to_string());
            self.any_poisoned.store(true, Ordering::Release);
        }
    }

    /// Whether an item of the list at `path` failed.
    fn take_failed_item_in(&self, path: &async_graphql::QueryPathNode<'_>) -> bool {
        self.any_poisoned.load(Ordering::Acquire)
            && self.lock_failed_items().remove(&path.to_string())
    }

    fn lock_failed_items(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.failed_items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the value holding the field at `path` for nulling.
    fn poison_parent_of(&self, path: &async_graphql::QueryPathNode<'_>) {
        match path.parent {
            Some(parent) => {
                self.lock_poisoned().insert(parent.to_string());
                self.any_poisoned.store(true, Ordering::Release);
            }
            None => self.data_poisoned.store(true, Ordering::Release),
        }
    }
}

/// Gives an error raised by async-graphql inside a field (not by a resolver, which always sets
/// a code) the code of what it is. A value that does not fit an argument's type (an `Int`
/// beyond 32 bits, inline or in a variable) is the caller's input: BAD_USER_INPUT, naming the
/// argument found at the error's position.
fn classify(mut error: ServerError, field: &Field) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code || !error.message.starts_with("Failed to parse \"") {
        return error;
    }
    let argument = error
        .locations
        .first()
        .and_then(|at| field.arguments.iter().find(|(_, value)| value.pos == *at))
        .map(|(name, _)| name.node.as_str());
    let field = argument.unwrap_or("arguments");
    let detail = error
        .message
        .split_once(": ")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| error.message.clone());
    error.message = format!("{field}: {detail}");
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", ErrorCode::BadUserInput.as_str());
    extensions.set("field", field);
    error
}

#[cfg(test)]
mod tests {
    //! The spec's null propagation on a toy schema, where every shape can be made to fail.

    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
    use serde_json::json;

    use super::Guard;
    use crate::limits::Limits;

    #[derive(SimpleObject)]
    struct Wrapper {
        item: Item,
        maybe: Option<Item>,
    }

    struct Item;

    #[Object]
    impl Item {
        async fn ok(&self) -> &str {
            "fine"
        }
        async fn broken_nullable(&self) -> async_graphql::Result<Option<String>> {
            Err("nullable failed".into())
        }
        async fn broken(&self) -> async_graphql::Result<String> {
            Err("non-null failed".into())
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn item(&self) -> Option<Item> {
            Some(Item)
        }
        async fn required(&self) -> Item {
            Item
        }
        async fn items(&self) -> Option<Vec<Item>> {
            Some(vec![Item, Item])
        }
        async fn loose_items(&self) -> Vec<Option<Item>> {
            vec![Some(Item)]
        }
        async fn wrapper(&self) -> Option<Wrapper> {
            Some(Wrapper {
                item: Item,
                maybe: Some(Item),
            })
        }
        async fn count(&self, n: i32) -> i32 {
            n
        }
    }

    async fn run(query: &str) -> serde_json::Value {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(Guard::new(Limits::default()))
            .finish();
        let response = schema.execute(query).await;
        serde_json::to_value(&response).unwrap()
    }

    fn paths(body: &serde_json::Value) -> Vec<String> {
        let mut paths: Vec<String> = body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        e["path"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.to_string().trim_matches('"').to_owned())
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
    }

    #[tokio::test]
    async fn a_failing_nullable_field_is_null_and_keeps_its_key_and_its_siblings() {
        let body = run("{ item { ok brokenNullable } }").await;
        assert_eq!(
            body["data"],
            json!({ "item": { "ok": "fine", "brokenNullable": null } })
        );
        assert_eq!(paths(&body), ["item.brokenNullable"]);
        // Even when it is the only field asked for.
        let body = run("{ item { brokenNullable } }").await;
        assert_eq!(body["data"], json!({ "item": { "brokenNullable": null } }));
    }

    #[tokio::test]
    async fn a_failing_non_null_field_nulls_the_nearest_nullable_parent() {
        let body = run("{ item { ok broken } required { ok } }").await;
        assert_eq!(
            body["data"],
            json!({ "item": null, "required": { "ok": "fine" } })
        );
        assert_eq!(paths(&body), ["item.broken"]);
        // Through a non-null field of a nullable one.
        let body = run("{ wrapper { item { broken } maybe { ok } } }").await;
        assert_eq!(body["data"], json!({ "wrapper": null }));
        assert_eq!(paths(&body), ["wrapper.item.broken"]);
        // Into the nullable field only.
        let body = run("{ wrapper { item { ok } maybe { broken } } }").await;
        assert_eq!(
            body["data"],
            json!({ "wrapper": { "item": { "ok": "fine" }, "maybe": null } })
        );
    }

    #[tokio::test]
    async fn list_items_are_nulled_by_their_own_type() {
        // `[Item!]`: a failed item nulls the list, reported once per failure.
        let body = run("{ items { ok broken } }").await;
        assert_eq!(body["data"], json!({ "items": null }));
        assert_eq!(paths(&body), ["items.0.broken", "items.1.broken"]);
        // `[Item]!`: a failed item is null in place.
        let body = run("{ looseItems { ok broken } }").await;
        assert_eq!(body["data"], json!({ "looseItems": [null] }));
    }

    #[tokio::test]
    async fn a_failing_non_null_root_field_nulls_data() {
        let body = run("{ item { ok } required { broken } }").await;
        assert_eq!(body["data"], json!(null));
        assert_eq!(paths(&body), ["required.broken"]);
    }

    #[tokio::test]
    async fn an_argument_that_does_not_fit_is_bad_user_input_naming_it() {
        let body = run("{ item { ok } count(n: 2147483648) }").await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "n");
        assert!(body.get("data").is_none_or(|d| d.is_null()), "{body}");
    }
}
