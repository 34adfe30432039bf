//! `search`: the portal's catalog in its Tantivy index, narrowed by the same policy predicates
//! that narrow the catalog's SQL, with hits resolved to `Product` through the database (so
//! prices, masks and a last visibility check are the catalog's own).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_search::{
    SearchError, SearchRequest, SearchResults, SearchService, Synonyms, Visibility,
};
use portico_store::IdsQuery;
use portico_store::model::{Tenant, TenantKind};

use crate::ApiError;
use crate::catalog::{Prices, Product, catalog_scope, shows_prices};
use crate::pagination::{PageInfo, bad_cursor, page_size};
use crate::request::{access, portal, store, store_error};
use crate::types::Region;

/// Results go this deep; past it, the user should narrow the query.
pub const MAX_DEPTH: usize = 1000;
/// The longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(InputObject, Default)]
pub struct SearchFilter {
    /// A category path: it and everything below it.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub region: Option<Region>,
}

/// `[start, end)` of a match, in UTF-16 code units (as JavaScript strings index).
#[derive(SimpleObject)]
pub struct TextRange {
    pub start: i32,
    pub end: i32,
}

/// A field of the hit with the words that matched the query marked.
#[derive(SimpleObject)]
pub struct Highlight {
    pub field: String,
    pub text: String,
    pub ranges: Vec<TextRange>,
}

#[derive(SimpleObject)]
pub struct SearchHit {
    pub product: Product,
    pub score: f64,
    pub highlights: Vec<Highlight>,
}

#[derive(SimpleObject)]
pub struct FacetValue {
    /// For `category` a path (`Power Tools/Drivers`) to pass back as `filter.category`.
    pub value: String,
    pub count: i32,
}

/// Counts over every match the viewer may see, not just this page.
#[derive(SimpleObject)]
pub struct Facet {
    pub field: String,
    pub values: Vec<FacetValue>,
}

#[derive(SimpleObject)]
pub struct SearchResult {
    pub total: i32,
    pub hits: Vec<SearchHit>,
    pub facets: Vec<Facet>,
    /// "Did you mean": the query with its misspelt words replaced by the catalog's closest
    /// words; only when that query finds something the viewer may see.
    pub suggestion: Option<String>,
    pub page_info: PageInfo,
}

fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("search:{offset}"))
}

fn decode_offset(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("search:")?.parse().ok()
}

fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

fn empty(offset: usize) -> SearchResult {
    SearchResult {
        total: 0,
        hits: Vec::new(),
        facets: Vec::new(),
        suggestion: None,
        page_info: PageInfo {
            has_next_page: false,
            has_previous_page: offset > 0,
            start_cursor: None,
            end_cursor: None,
        },
    }
}

pub async fn search(
    ctx: &Context<'_>,
    query: String,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<SearchFilter>,
) -> async_graphql::Result<SearchResult> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadUserInput {
            field: "query".into(),
            message: format!("must be at most {MAX_QUERY_CHARS} characters"),
        }
        .extend());
    }
    let first = page_size(first)?;
    let offset = match after {
        None => 0,
        Some(c) => decode_offset(&c).ok_or_else(bad_cursor)?,
    };
    if offset + first > MAX_DEPTH {
        return Err(ApiError::BadUserInput {
            field: "after".into(),
            message: format!("results go {MAX_DEPTH} deep; narrow the query or the filter"),
        }
        .extend());
    }
    let Some((owner, visibility)) = visibility_of(ctx)? else {
        return Ok(empty(offset));
    };
    let filter = filter.unwrap_or_default();
    let request = SearchRequest {
        text: query,
        category: filter.category,
        brand: filter.brand,
        region: filter
            .region
            .map(|r| portico_store::model::Region::from(r).as_str().to_owned()),
        offset,
        limit: first,
        // What the document does not select is not computed.
        without_facets: !ctx.look_ahead().field("facets").exists(),
        without_highlights: !ctx.look_ahead().field("hits").field("highlights").exists(),
        // The owner's, added by `run`.
        synonyms: Synonyms::default(),
    };
    let found = run(ctx, &owner, visibility, request).await?;
    let ids: Vec<String> = found.hits.iter().map(|h| h.listing_id.clone()).collect();
    let with_prices = shows_prices(ctx.look_ahead().field("hits").field("product"));
    let mut products = products_of(ctx, &owner, ids.clone(), with_prices).await?;
    let hits: Vec<SearchHit> = found
        .hits
        .into_iter()
        .filter_map(|hit| {
            Some(SearchHit {
                product: products.remove(&hit.listing_id)?,
                score: f64::from(hit.score),
                highlights: hit
                    .highlights
                    .into_iter()
                    .map(|h| Highlight {
                        field: h.field,
                        text: h.text,
                        ranges: h
                            .ranges
                            .into_iter()
                            .map(|(start, end)| TextRange {
                                start: count(start),
                                end: count(end),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect();
    let shown = offset + ids.len();
    Ok(SearchResult {
        total: count(found.total),
        suggestion: found.suggestion,
        facets: found
            .facets
            .into_iter()
            .map(|f| Facet {
                field: f.field.to_owned(),
                values: f
                    .values
                    .into_iter()
                    .map(|(value, n)| FacetValue {
                        value,
                        count: count(n),
                    })
                    .collect(),
            })
            .collect(),
        page_info: PageInfo {
            has_next_page: shown < found.total && shown < MAX_DEPTH,
            has_previous_page: offset > 0,
            start_cursor: (!ids.is_empty()).then(|| encode_offset(offset)),
            end_cursor: (!ids.is_empty()).then(|| encode_offset(shown)),
        },
        hits,
    })
}

/// The portal's catalog owner and what the caller may see of it: `None` when the portal owns
/// no catalog (only resellers do) or the policy gives the caller no predicates.
fn visibility_of(ctx: &Context<'_>) -> async_graphql::Result<Option<(Tenant, Visibility)>> {
    let access = access(ctx)?;
    let owner = &portal(ctx)?.tenant;
    let predicates = match owner.kind {
        TenantKind::Reseller => access.catalog_predicates(owner),
        _ => None,
    };
    Ok(predicates.map(|p| {
        (
            owner.clone(),
            Visibility {
                active_only: p.active_only,
                sold_in: p.sold_in.map(|r| r.as_str().to_owned()),
                visible_to: p.visible_to,
            },
        )
    }))
}

/// Runs `request` on the owner's index, with the owner's synonyms of its words.
async fn run(
    ctx: &Context<'_>,
    owner: &Tenant,
    visibility: Visibility,
    mut request: SearchRequest,
) -> async_graphql::Result<SearchResults> {
    let service = ctx
        .data::<Arc<SearchService>>()
        .map_err(|_| ApiError::Internal.extend())?;
    let synonyms = store(ctx)?
        .search_synonym_table(
            &catalog_scope(access(ctx)?, &owner.id),
            &owner.id,
            portal(ctx)?.catalog_version(),
        )
        .await
        .map_err(store_error)?;
    request.synonyms = Synonyms::of_text(&synonyms, &request.text);
    service
        .search(&owner.id, visibility, request)
        .await
        .map_err(|err| match err {
            SearchError::Building => ApiError::Unavailable.extend(),
            err => {
                tracing::error!(error = %err, tenant = %owner.slug, "search failed");
                ApiError::Internal.extend()
            }
        })
}

/// Hits become products through the database: the policy checks each again, and a listing
/// the index has not caught up with yet (deleted, hidden) simply drops out. One statement with
/// the prices when the hits show any, cached as catalog pages are: a repeated search reads
/// only the data versions.
async fn products_of(
    ctx: &Context<'_>,
    owner: &Tenant,
    ids: Vec<String>,
    with_prices: bool,
) -> async_graphql::Result<HashMap<String, Product>> {
    let access = access(ctx)?;
    let prices = if with_prices {
        Some(
            ctx.data::<Prices>()
                .map_err(|_| ApiError::Internal.extend())?,
        )
    } else {
        None
    };
    let query = IdsQuery {
        owner: owner.id.clone(),
        ids,
        viewer_tenant: access.actor_tenant().map(|t| t.id.clone()),
        prices: prices.map(|loader| loader.loader().page_query()),
    };
    let rows = store(ctx)?
        .catalog_rows_by_ids(
            &catalog_scope(access, &owner.id),
            &query,
            portal(ctx)?.catalog_version(),
        )
        .await
        .map_err(store_error)?;
    if let Some(loader) = prices {
        loader
            .feed_many(
                rows.iter()
                    .filter(|r| r.listing.tenant_id == owner.id)
                    .filter_map(|r| Some((r.listing.id.clone(), r.prices.clone()?))),
            )
            .await;
    }
    Ok(rows
        .into_iter()
        .filter(|r| r.listing.tenant_id == owner.id)
        .filter_map(|row| Product::visible(access, row))
        .map(|p| (p.listing_id().to_owned(), p))
        .collect())
}

/// Completions offered at most.
pub const MAX_COMPLETIONS: usize = 20;

/// Type-ahead: names of products the caller may see that the text completes (its last word as
/// a prefix, earlier words as in `search`), best first, each name once. The names are the
/// ones the caller is shown, read through the database like search hits.
pub async fn completions(
    ctx: &Context<'_>,
    prefix: String,
    first: Option<i32>,
) -> async_graphql::Result<Vec<String>> {
    if prefix.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadUserInput {
            field: "prefix".into(),
            message: format!("must be at most {MAX_QUERY_CHARS} characters"),
        }
        .extend());
    }
    let first = match first {
        None => 8,
        Some(n) if (1..=MAX_COMPLETIONS as i32).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::BadUserInput {
                field: "first".into(),
                message: format!("must be between 1 and {MAX_COMPLETIONS}"),
            }
            .extend());
        }
    };
    if prefix.trim().is_empty() {
        return Ok(Vec::new());
    }
    let Some((owner, visibility)) = visibility_of(ctx)? else {
        return Ok(Vec::new());
    };
    let request = SearchRequest {
        text: prefix,
        // Room for names that repeat or drop out at the database's last check.
        limit: first * 2,
        without_facets: true,
        without_highlights: true,
        ..SearchRequest::default()
    };
    let found = run(ctx, &owner, visibility, request).await?;
    let ids: Vec<String> = found.hits.iter().map(|h| h.listing_id.clone()).collect();
    let products = products_of(ctx, &owner, ids.clone(), false).await?;
    let mut seen = std::collections::HashSet::new();
    Ok(ids
        .iter()
        .filter_map(|id| products.get(id))
        .map(|p| p.listing_name().to_owned())
        .filter(|name| seen.insert(name.to_lowercase()))
        .take(first)
        .collect())
}
