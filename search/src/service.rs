//! The indexes of every tenant: opened on demand and kept in a bounded cache, written under a
//! bounded pool of writers, all blocking work on tokio's blocking pool.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portico_store::IndexListing;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::Semaphore;

use crate::document::{Fields, document, fields_of, register_tokenizers, schema};
use crate::expand::{CACHED_WORDS, Expansion, ExpansionKey, expand};
use crate::filter::{CACHED_SETS, VisibleDocs};
use crate::generation::{GenerationCache, kept_or};
use crate::query::{self, SearchRequest, SearchResults, Visibility, words};
use crate::{SCHEMA_VERSION, SearchError};

/// Searches re-read an index's state at most this often, so a commit by another process
/// (`portico reindex`) is seen; this process's own commits are seen at once.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Indexes kept open at once (readers: mapped files, term dictionaries' caches).
    pub open_indexes: usize,
    /// Writers at once across all tenants.
    pub writers: usize,
    /// Each writer's indexing memory (Tantivy's minimum is 15 MB).
    pub writer_memory_bytes: usize,
    /// Search results kept (0: none), per (index generation, visibility, request).
    pub result_cache_entries: usize,
    /// The most the kept results may hold in memory, about.
    pub result_cache_bytes: u64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            open_indexes: 64,
            writers: 2,
            writer_memory_bytes: 15_000_000,
            result_cache_entries: 4096,
            result_cache_bytes: 32 << 20,
        }
    }
}

/// What is on disk for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    Ready,
    Missing,
    /// Written by a build with another schema version.
    Outdated,
    Corrupt,
}

struct TenantIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    refreshed: Mutex<Instant>,
    /// Unique in this process: a reader's generation ids start again at each open, so a
    /// result is keyed by both.
    opened: u64,
    expansions: Mutex<GenerationCache<ExpansionKey, Expansion>>,
    visible: Mutex<GenerationCache<Visibility, VisibleDocs>>,
}

/// What a result is kept under: the index as one reader saw it (`opened`, `generation`), what
/// the caller may see and what it asked. Two callers with the same `Visibility` are shown the
/// same hits (the policy's predicates are the whole filter); each still gets its own last
/// check and prices from the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ResultKey {
    tenant: String,
    opened: u64,
    generation: u64,
    visibility: Visibility,
    request: SearchRequest,
}

impl ResultKey {
    fn new(
        tenant: &str,
        open: &TenantIndex,
        generation: u64,
        visibility: &Visibility,
        request: &SearchRequest,
    ) -> ResultKey {
        ResultKey {
            tenant: tenant.to_owned(),
            opened: open.opened,
            generation,
            visibility: visibility.clone(),
            request: request.clone(),
        }
    }
}

/// Results weigh their text (highlights repeat the hit's fields), never less than the
/// budget's share of one entry.
#[derive(Clone)]
struct ResultWeight {
    floor: u64,
}

impl quick_cache::Weighter<ResultKey, Arc<SearchResults>> for ResultWeight {
    fn weight(&self, key: &ResultKey, results: &Arc<SearchResults>) -> u64 {
        let hits: usize = results
            .hits
            .iter()
            .map(|h| {
                64 + h.listing_id.len()
                    + h.highlights
                        .iter()
                        .map(|x| 48 + x.field.len() + x.text.len() + 16 * x.ranges.len())
                        .sum::<usize>()
            })
            .sum();
        let facets: usize = results
            .facets
            .iter()
            .flat_map(|f| f.values.iter().map(|(v, _)| 32 + v.len()))
            .sum();
        ((128 + key.request.text.len() + hits + facets) as u64).max(self.floor)
    }
}

static OPENED: AtomicU64 = AtomicU64::new(0);

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    schema: u32,
}

pub struct SearchService {
    root: PathBuf,
    options: SearchOptions,
    open: quick_cache::sync::Cache<String, Arc<TenantIndex>>,
    results: Option<quick_cache::sync::Cache<ResultKey, Arc<SearchResults>, ResultWeight>>,
    writers: Arc<Semaphore>,
    building: Mutex<HashSet<String>>,
}

/// Tenant ids name directories: anything but a plain id is refused.
fn check_tenant(tenant: &str) -> Result<(), SearchError> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 64
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SearchError::Task(format!("not a tenant id: {tenant:?}")))
    }
}

fn open_at(path: &Path) -> Result<TenantIndex, SearchError> {
    let index = Index::open_in_dir(path)?;
    register_tokenizers(&index);
    let fields = fields_of(&index.schema())
        .ok_or_else(|| SearchError::Task("index schema lacks a field".into()))?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        // A page of hits reads its documents' stored text from a handful of blocks; one
        // cached block made each of them decompress again.
        .doc_store_cache_num_blocks(4)
        .try_into()?;
    Ok(TenantIndex {
        index,
        reader,
        fields,
        refreshed: Mutex::new(Instant::now()),
        opened: OPENED.fetch_add(1, Ordering::Relaxed),
        expansions: Mutex::new(GenerationCache::new(CACHED_WORDS)),
        visible: Mutex::new(GenerationCache::new(CACHED_SETS)),
    })
}

fn state_at(path: &Path) -> IndexState {
    if !path.join("meta.json").exists() {
        return IndexState::Missing;
    }
    let Ok(index) = Index::open_in_dir(path) else {
        return IndexState::Corrupt;
    };
    let Ok(metas) = index.load_metas() else {
        return IndexState::Corrupt;
    };
    let version = metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Payload>(p).ok())
        .map(|p| p.schema);
    if version != Some(SCHEMA_VERSION) || fields_of(&index.schema()).is_none() {
        return IndexState::Outdated;
    }
    if index.searchable_segment_metas().is_err() {
        return IndexState::Corrupt;
    }
    IndexState::Ready
}

fn commit(writer: &mut IndexWriter) -> Result<(), SearchError> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(
        &serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
        })
        .expect("payload serializes"),
    );
    prepared.commit()?;
    Ok(())
}

/// Runs index and file work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, SearchError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
}

/// A change to one tenant's index.
#[derive(Debug, Clone)]
pub enum Change {
    Upsert(Box<IndexListing>),
    Delete(String),
}

impl SearchService {
    pub fn new(root: impl Into<PathBuf>, options: SearchOptions) -> SearchService {
        SearchService {
            root: root.into(),
            open: quick_cache::sync::Cache::new(options.open_indexes.max(1)),
            results: (options.result_cache_entries > 0 && options.result_cache_bytes > 0).then(
                || {
                    let floor =
                        (options.result_cache_bytes / options.result_cache_entries as u64).max(1);
                    quick_cache::sync::Cache::with_weighter(
                        options.result_cache_entries,
                        options.result_cache_bytes,
                        ResultWeight { floor },
                    )
                },
            ),
            writers: Arc::new(Semaphore::new(options.writers.max(1))),
            options,
            building: Mutex::new(HashSet::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, tenant: &str) -> PathBuf {
        self.root.join(tenant)
    }

    /// Indexes open now (bounded by `open_indexes`).
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn state(&self, tenant: &str) -> IndexState {
        if check_tenant(tenant).is_err() {
            return IndexState::Missing;
        }
        state_at(&self.path(tenant))
    }

    /// Ready to take changes: open in the cache, or healthy on disk.
    pub fn is_ready(&self, tenant: &str) -> bool {
        self.open.get(tenant).is_some() || self.state(tenant) == IndexState::Ready
    }

    fn is_building(&self, tenant: &str) -> bool {
        self.building.lock().expect("lock").contains(tenant)
    }

    /// The open index, opening it on a miss.
    fn index(&self, tenant: &str) -> Result<Arc<TenantIndex>, SearchError> {
        check_tenant(tenant)?;
        if self.is_building(tenant) {
            return Err(SearchError::Building);
        }
        if let Some(open) = self.open.get(tenant) {
            return Ok(open);
        }
        let path = self.path(tenant);
        if !path.join("meta.json").exists() {
            return Err(SearchError::Building);
        }
        let opened = Arc::new(open_at(&path)?);
        self.open.insert(tenant.to_owned(), opened.clone());
        Ok(opened)
    }

    /// Searches a tenant's index (blocking: call through [`SearchService::search`]).
    pub fn search_blocking(
        &self,
        tenant: &str,
        visibility: &Visibility,
        request: &SearchRequest,
    ) -> Result<SearchResults, SearchError> {
        let open = self.index(tenant)?;
        {
            let mut refreshed = open.refreshed.lock().expect("lock");
            if refreshed.elapsed() >= REFRESH_EVERY {
                open.reader.reload()?;
                *refreshed = Instant::now();
            }
        }
        let searcher = open.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = ResultKey::new(tenant, &open, generation, visibility, request);
        if let Some(hit) = self.results.as_ref().and_then(|r| r.get(&key)) {
            return Ok(hit.as_ref().clone());
        }
        let words = self.expansions(&open, &searcher, generation, visibility, &request.text)?;
        let visible = kept_or(&open.visible, generation, visibility.clone(), || {
            VisibleDocs::compute(&searcher, &open.fields, visibility)
        })?;
        let found = query::run(&searcher, &open.fields, &visible, request, &words)?;
        if let Some(results) = &self.results {
            results.insert(key, Arc::new(found.clone()));
        }
        Ok(found)
    }

    /// The request's words as this generation of the index resolves them, from the index's
    /// cache or read from its term dictionaries once.
    fn expansions(
        &self,
        open: &TenantIndex,
        searcher: &tantivy::Searcher,
        generation: u64,
        visibility: &Visibility,
        text: &str,
    ) -> Result<Vec<Arc<Expansion>>, SearchError> {
        let words = words(text);
        let mut out = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let last = i + 1 == words.len();
            let key = (visibility.clone(), word.clone(), last);
            out.push(kept_or(&open.expansions, generation, key, || {
                expand(searcher, &open.fields, visibility, word, last)
            })?);
        }
        Ok(out)
    }

    /// A kept result, without leaving the async runtime: only when the index is open, not
    /// being built and not due for a refresh (those read files, on the blocking pool).
    fn cached(
        &self,
        tenant: &str,
        visibility: &Visibility,
        request: &SearchRequest,
    ) -> Option<SearchResults> {
        let results = self.results.as_ref()?;
        if check_tenant(tenant).is_err() || self.is_building(tenant) {
            return None;
        }
        let open = self.open.get(tenant)?;
        if open.refreshed.lock().expect("lock").elapsed() >= REFRESH_EVERY {
            return None;
        }
        let generation = open.reader.searcher().generation().generation_id();
        let key = ResultKey::new(tenant, &open, generation, visibility, request);
        results.get(&key).map(|hit| hit.as_ref().clone())
    }

    pub async fn search(
        self: &Arc<Self>,
        tenant: &str,
        visibility: Visibility,
        request: SearchRequest,
    ) -> Result<SearchResults, SearchError> {
        if let Some(hit) = self.cached(tenant, &visibility, &request) {
            return Ok(hit);
        }
        let this = self.clone();
        let tenant = tenant.to_owned();
        blocking(move || this.search_blocking(&tenant, &visibility, &request)).await
    }

    /// One writer of the bounded pool, then `work` on the blocking pool.
    async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&SearchService) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let _permit = self
            .writers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| SearchError::Task(e.to_string()))?;
        let this = self.clone();
        blocking(move || work(&this)).await
    }

    /// A writer for `index`: `edit`, then one commit with the schema version, merges done.
    fn commit_edit(
        &self,
        index: &Index,
        edit: impl FnOnce(&mut IndexWriter<TantivyDocument>) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, self.options.writer_memory_bytes)?;
        edit(&mut writer)?;
        commit(&mut writer)?;
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// Applies changes in one commit and makes them visible to this process's searches.
    pub fn apply_blocking(&self, tenant: &str, changes: &[Change]) -> Result<(), SearchError> {
        check_tenant(tenant)?;
        if changes.is_empty() {
            return Ok(());
        }
        let open = self.index(tenant)?;
        self.commit_edit(&open.index, |writer| {
            for change in changes {
                match change {
                    Change::Upsert(item) => {
                        writer.delete_term(Term::from_field_text(open.fields.id, &item.listing.id));
                        writer.add_document(document(&open.fields, item))?;
                    }
                    Change::Delete(id) => {
                        writer.delete_term(Term::from_field_text(open.fields.id, id));
                    }
                }
            }
            Ok(())
        })?;
        open.reader.reload()?;
        *open.refreshed.lock().expect("lock") = Instant::now();
        Ok(())
    }

    pub async fn apply(
        self: &Arc<Self>,
        tenant: &str,
        changes: Vec<Change>,
    ) -> Result<(), SearchError> {
        let tenant = tenant.to_owned();
        self.write(move |this| this.apply_blocking(&tenant, &changes))
            .await
    }

    /// Writes a tenant's index anew from `listings`. A healthy index is rewritten in place
    /// (searches go on meanwhile); a missing, outdated or corrupt one is replaced, and
    /// searches of that tenant answer `Building` until it is done.
    pub fn rebuild_blocking(
        &self,
        tenant: &str,
        listings: &[IndexListing],
    ) -> Result<(), SearchError> {
        check_tenant(tenant)?;
        let path = self.path(tenant);
        let fresh = state_at(&path) != IndexState::Ready;
        if fresh {
            self.building
                .lock()
                .expect("lock")
                .insert(tenant.to_owned());
        }
        let result = (|| {
            self.open.remove(tenant);
            let index = if fresh {
                if path.exists() {
                    std::fs::remove_dir_all(&path)?;
                }
                std::fs::create_dir_all(&path)?;
                let (schema, _) = schema();
                Index::create_in_dir(&path, schema)?
            } else {
                Index::open_in_dir(&path)?
            };
            register_tokenizers(&index);
            let fields = fields_of(&index.schema())
                .ok_or_else(|| SearchError::Task("index schema lacks a field".into()))?;
            self.commit_edit(&index, |writer| {
                writer.delete_all_documents()?;
                for item in listings {
                    writer.add_document(document(&fields, item))?;
                }
                Ok(())
            })
        })();
        self.building.lock().expect("lock").remove(tenant);
        result
    }

    pub async fn rebuild(
        self: &Arc<Self>,
        tenant: &str,
        listings: Vec<IndexListing>,
    ) -> Result<(), SearchError> {
        let tenant = tenant.to_owned();
        self.write(move |this| this.rebuild_blocking(&tenant, &listings))
            .await
    }

    /// Writers at once: start-up rebuilds run this many tenants at a time.
    pub fn writers(&self) -> usize {
        self.options.writers.max(1)
    }

    /// Marks a tenant as being built (searches answer `Building`) before its rebuild is
    /// queued, so a start with many tenants never serves a half-written index.
    pub fn mark_building(&self, tenant: &str) {
        self.building
            .lock()
            .expect("lock")
            .insert(tenant.to_owned());
    }
}
