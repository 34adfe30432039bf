//! A reseller's search synonyms (migration `search_synonyms`): read, replaced whole under a
//! version, audited, and kept in memory under the reseller's catalog version for the searches
//! that apply them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::error::check_version;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// Groups a reseller may declare.
pub const MAX_SYNONYM_GROUPS: usize = 500;
/// Words in one group (at least two: a word alone stands for nothing else).
pub const MAX_GROUP_WORDS: usize = 16;

/// Resellers' synonym tables kept, each under the catalog version it was read at.
pub(crate) type SynonymCache = quick_cache::sync::Cache<String, (i64, Arc<SynonymTable>)>;

/// A reseller's synonyms as stored: groups of words, each word spelt as the search index
/// spells words (the resolvers normalize them with the index's own tokenizer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynonymSet {
    pub groups: Vec<Vec<String>>,
    /// 0 until the first set.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every word of a reseller's groups and the other words of its group. A word is in one group
/// at most (`set_search_synonyms` refuses a word in two), so each word has one meaning.
pub type SynonymTable = BTreeMap<String, Vec<String>>;

impl SynonymSet {
    pub fn table(&self) -> SynonymTable {
        let mut table = SynonymTable::new();
        for group in &self.groups {
            for word in group {
                let others = group.iter().filter(|w| *w != word).cloned().collect();
                table.insert(word.clone(), others);
            }
        }
        table
    }
}

/// The groups' shape: counts, lengths, and each word in one group only. Names the group and
/// word (`groups[2][1]`) where it can.
fn validate(groups: &[Vec<String>]) -> Result<(), StoreError> {
    let invalid = |message: String| StoreError::Invalid {
        field: "groups",
        message,
    };
    if groups.len() > MAX_SYNONYM_GROUPS {
        return Err(invalid(format!(
            "at most {MAX_SYNONYM_GROUPS} groups, not {}",
            groups.len()
        )));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (g, group) in groups.iter().enumerate() {
        if !(2..=MAX_GROUP_WORDS).contains(&group.len()) {
            return Err(invalid(format!(
                "groups[{g}] must hold 2 to {MAX_GROUP_WORDS} words, not {}",
                group.len()
            )));
        }
        for (w, word) in group.iter().enumerate() {
            if word.is_empty() || word.chars().count() > 40 || word.chars().any(char::is_whitespace)
            {
                return Err(invalid(format!("groups[{g}][{w}] must be one word")));
            }
            if let Some(first) = seen.insert(word, g) {
                return Err(invalid(format!(
                    "groups[{g}][{w}]: {word:?} is already in groups[{first}]; a word may be in one group only"
                )));
            }
        }
    }
    Ok(())
}

fn parse(groups: &str) -> Result<Vec<Vec<String>>, StoreError> {
    serde_json::from_str(groups)
        .map_err(|e| StoreError::Unavailable(format!("search_synonyms.groups is not JSON: {e}")))
}

impl Store {
    /// A reseller's synonyms (an empty set at version 0 before the first change). A tenant
    /// outside the scope is NotFound.
    pub async fn search_synonyms(
        &self,
        scope: &TenantScope,
        owner: &str,
    ) -> Result<SynonymSet, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        scoped!(self, scope, read, |conn, _d| {
            let row: Option<(String, i64, DateTime<Utc>)> = sqlx::query_as(
                "SELECT groups, version, updated_at FROM search_synonyms WHERE tenant_id = $1",
            )
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                None => Ok(SynonymSet::default()),
                Some((groups, version, updated_at)) => Ok(SynonymSet {
                    groups: parse(&groups)?,
                    version,
                    updated_at: Some(updated_at),
                }),
            }
        })
    }

    /// The reseller's synonyms as searches apply them, kept in memory under its catalog
    /// version (a change moves it: migration `search_synonyms`). `catalog_version` as for
    /// `catalog_page`.
    pub async fn search_synonym_table(
        &self,
        scope: &TenantScope,
        owner: &str,
        catalog_version: Option<i64>,
    ) -> Result<Arc<SynonymTable>, StoreError> {
        // The version first: a set read after it is at least as new.
        let version = match catalog_version {
            Some(v) => v,
            None => self.versions(owner).await?.catalog,
        };
        if let Some((at, table)) = self.synonyms.get(owner)
            && at == version
        {
            return Ok(table);
        }
        let table = Arc::new(self.search_synonyms(scope, owner).await?.table());
        self.synonyms
            .insert(owner.to_owned(), (version, table.clone()));
        Ok(table)
    }

    /// Replaces a reseller's synonyms if they are still at `expected_version` (0: none set
    /// yet), with the audit row and outbox message in the same transaction. An empty list
    /// removes them all.
    pub async fn set_search_synonyms(
        &self,
        scope: &TenantScope,
        owner: &str,
        groups: &[Vec<String>],
        expected_version: i64,
        audit: &NewAuditEntry,
    ) -> Result<SynonymSet, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        validate(groups)?;
        let text = serde_json::to_string(groups).expect("strings serialize");
        scoped!(self, scope, write, |conn, d| {
            let before: Option<(String, i64)> =
                sqlx::query_as("SELECT groups, version FROM search_synonyms WHERE tenant_id = $1")
                    .bind(owner)
                    .fetch_optional(&mut *conn)
                    .await?;
            let found = before.as_ref().map_or(0, |(_, v)| *v);
            check_version("search synonyms", Some(found), expected_version)?;
            let now = Utc::now();
            // Conditional on the version read: a writer that committed in between makes this
            // one a conflict, never a lost update.
            let written = if before.is_some() {
                sqlx::query(
                    "UPDATE search_synonyms SET groups = $1, version = version + 1, updated_at = $2 \
                     WHERE tenant_id = $3 AND version = $4",
                )
                .bind(&text)
                .bind(now)
                .bind(owner)
                .bind(found)
                .execute(&mut *conn)
                .await
            } else {
                sqlx::query(
                    "INSERT INTO search_synonyms (tenant_id, groups, version, updated_at) \
                     VALUES ($1, $2, 1, $3) ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(owner)
                .bind(&text)
                .bind(now)
                .execute(&mut *conn)
                .await
            }
            .map_err(StoreError::from_db)?;
            if written.rows_affected() != 1 {
                return Err(StoreError::VersionConflict {
                    entity: "search synonyms",
                    expected: expected_version,
                });
            }
            let mut entry = audit.of("search_synonyms.set", format!("search_synonyms:{owner}"));
            entry.before_state = before.map(|(groups, _)| groups);
            entry.after_state = Some(text.clone());
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::SearchSynonyms,
                serde_json::json!({ "version": found + 1 })
            );
            Ok(SynonymSet {
                groups: groups.to_vec(),
                version: found + 1,
                updated_at: Some(now),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(g: &[&[&str]]) -> Vec<Vec<String>> {
        g.iter()
            .map(|w| w.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn each_word_of_a_group_stands_for_the_others() {
        let set = SynonymSet {
            groups: groups(&[&["akku", "battery", "accu"], &["saw", "sage"]]),
            ..SynonymSet::default()
        };
        let table = set.table();
        assert_eq!(table["battery"], ["akku", "accu"]);
        assert_eq!(table["sage"], ["saw"]);
        assert!(!table.contains_key("drill"));
    }

    #[test]
    fn a_word_in_two_groups_or_a_group_of_one_is_refused_by_position() {
        let err = |g: &[&[&str]]| match validate(&groups(g)) {
            Err(StoreError::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(validate(&groups(&[&["a", "b"], &["c", "d"]])).is_ok());
        assert!(validate(&[]).is_ok(), "no groups: all removed");
        assert!(
            err(&[&["a", "b"], &["c", "a"]])
                .starts_with("groups[1][1]: \"a\" is already in groups[0]")
        );
        assert!(err(&[&["a"]]).starts_with("groups[0] must hold 2 to 16 words"));
        assert!(err(&[&["a", "b c"]]).starts_with("groups[0][1] must be one word"));
        let many: Vec<Vec<String>> = (0..=MAX_SYNONYM_GROUPS)
            .map(|i| vec![format!("a{i}"), format!("b{i}")])
            .collect();
        assert!(validate(&many).is_err());
    }
}
