//! A reseller's search synonyms: `searchSynonyms` and `setSearchSynonyms`, for the staff who
//! manage its catalog (the policy's `update` on its products: reseller admins and pricing
//! managers). Searches on the portal apply them at once (`search.rs`), without a reindex.

use async_graphql::{Context, ErrorExtensions, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::Action;
use portico_store::{SynonymSet, TenantScope};

use super::catalog_decision;
use crate::ApiError;
use crate::request::{audit, caller, store, store_error};

/// Groups of words a portal's search treats as one: a query word of a group also finds
/// listings that hold any other word of it.
#[derive(SimpleObject)]
pub struct SearchSynonyms {
    /// Each word as the search index spells it: lower case, accents folded.
    pub groups: Vec<Vec<String>>,
    /// 0 until the first change; pass it back as `expectedVersion`.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<SynonymSet> for SearchSynonyms {
    fn from(s: SynonymSet) -> Self {
        SearchSynonyms {
            groups: s.groups,
            version: s.version,
            updated_at: s.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct SetSearchSynonymsInput {
    /// The whole set, replacing the current one: groups of 2 to 16 single words, each word in
    /// one group only, at most 500 groups. An empty list removes every synonym.
    pub groups: Vec<Vec<String>>,
    /// The set's `version` as last read (0 before the first change).
    pub expected_version: i64,
}

#[derive(SimpleObject)]
pub struct SetSearchSynonymsPayload {
    pub synonyms: SearchSynonyms,
}

/// Each word spelt as the index spells words, or BAD_USER_INPUT naming it (`groups[2][1]`).
/// The shape (counts, a word in two groups) is the store's to check, on what is stored.
fn normalized(groups: Vec<Vec<String>>) -> async_graphql::Result<Vec<Vec<String>>> {
    groups
        .into_iter()
        .enumerate()
        .map(|(g, group)| {
            group
                .into_iter()
                .enumerate()
                .map(|(w, word)| {
                    portico_search::synonym_word(&word).map_err(|message| {
                        ApiError::BadUserInput {
                            field: format!("groups[{g}][{w}]"),
                            message,
                        }
                        .extend()
                    })
                })
                .collect()
        })
        .collect()
}

/// The portal's synonyms, for the staff who manage its catalog; FORBIDDEN for everyone else.
pub async fn search_synonyms(ctx: &Context<'_>) -> async_graphql::Result<SearchSynonyms> {
    caller(ctx)?;
    let (owner, _) = catalog_decision(ctx, Action::Update)?;
    let set = store(ctx)?
        .search_synonyms(&TenantScope::single(owner.id.clone()), &owner.id)
        .await
        .map_err(store_error)?;
    Ok(set.into())
}

#[derive(Default)]
pub struct SearchSynonymMutations;

#[Object]
impl SearchSynonymMutations {
    /// Replaces the portal's search synonyms if nobody changed them since `expectedVersion`
    /// (reseller admins and pricing managers); audited. Searches apply them at once.
    async fn set_search_synonyms(
        &self,
        ctx: &Context<'_>,
        input: SetSearchSynonymsInput,
    ) -> async_graphql::Result<SetSearchSynonymsPayload> {
        let caller = caller(ctx)?;
        let (owner, reason) = catalog_decision(ctx, Action::Update)?;
        let groups = normalized(input.groups)?;
        let set = store(ctx)?
            .set_search_synonyms(
                &TenantScope::single(owner.id.clone()),
                &owner.id,
                &groups,
                input.expected_version,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(SetSearchSynonymsPayload {
            synonyms: set.into(),
        })
    }
}
