//! The indexer: one task that tails the outbox and applies changes to the tenants' indexes in
//! small batched commits. Applying a message means reading the listing's current row, so
//! replaying a message is harmless: the outbox position is kept in a file beside the indexes
//! and written after the batch's commits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use portico_store::model::TenantKind;
use portico_store::{Directory, OutboxMessage, Store, Topic};

use crate::SearchError;
use crate::service::{Change, IndexState, SearchService, blocking};

#[derive(Debug, Clone)]
pub struct IndexerOptions {
    /// How often the outbox is read when it was empty.
    pub poll: Duration,
    /// Messages per batch.
    pub batch: i64,
    /// How long a hole in the outbox ids is waited for (on PostgreSQL a transaction that took an
    /// id may commit after a later one) before it is taken for a rolled-back id.
    pub gap_wait: Duration,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        IndexerOptions {
            poll: Duration::from_millis(200),
            batch: 500,
            gap_wait: Duration::from_secs(5),
        }
    }
}

/// The current directory (tenants may be added while the server runs).
pub type DirectorySource = Arc<dyn Fn() -> Arc<Directory> + Send + Sync>;

pub struct Indexer {
    store: Store,
    search: Arc<SearchService>,
    directory: DirectorySource,
    options: IndexerOptions,
    /// Every message up to here is applied.
    cursor: i64,
    /// Applied messages above the cursor, past a hole.
    applied_above: BTreeSet<i64>,
    hole_since: Option<Instant>,
}

/// What one listing id resolves to in a batch.
type Targets = BTreeMap<String, BTreeSet<String>>;

impl Indexer {
    pub fn new(
        store: Store,
        search: Arc<SearchService>,
        directory: DirectorySource,
        options: IndexerOptions,
    ) -> Indexer {
        Indexer {
            store,
            search,
            directory,
            options,
            cursor: 0,
            applied_above: BTreeSet::new(),
            hole_since: None,
        }
    }

    fn cursor_path(&self) -> PathBuf {
        self.search.root().join("outbox-cursor")
    }

    /// The stored cursor, read on the blocking pool; `None` when absent or unreadable.
    async fn read_cursor(&self) -> Option<i64> {
        let path = self.cursor_path();
        blocking(move || {
            Ok(std::fs::read_to_string(path)
                .ok()
                .and_then(|text| text.trim().parse().ok()))
        })
        .await
        .ok()
        .flatten()
    }

    /// Stores the cursor (write and rename, on the blocking pool).
    async fn write_cursor(&self) -> Result<(), SearchError> {
        let path = self.cursor_path();
        let cursor = self.cursor;
        blocking(move || {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, cursor.to_string())?;
            std::fs::rename(tmp, path)?;
            Ok(())
        })
        .await
    }

    /// Tenants that own a catalog, and so an index: the live resellers, as (id, slug).
    pub fn catalog_owners(directory: &Directory) -> Vec<(String, String)> {
        directory
            .tenants
            .iter()
            .filter(|t| t.kind == TenantKind::Reseller && t.deleted_at.is_none())
            .map(|t| (t.id.clone(), t.slug.clone()))
            .collect()
    }

    /// Rebuilds one tenant's index from the database; the number of listings indexed.
    pub async fn rebuild(&self, tenant: &str) -> Result<usize, SearchError> {
        let directory = (self.directory)();
        let listings = self
            .store
            .listings_for_index(&directory.scope_of_all(), tenant, None)
            .await?;
        let count = listings.len();
        self.search.rebuild(tenant, listings).await?;
        Ok(count)
    }

    /// At start: every missing, outdated or corrupt index (all of them on a first start, or
    /// when the outbox position was lost) is rebuilt, `SearchOptions::writers` at a time. A
    /// ready index keeps answering from its last commit while it is rebuilt (the rebuild is one
    /// commit); the others answer `Building` until theirs is done.
    pub async fn prepare(&mut self) -> Result<(), SearchError> {
        let root = self.search.root().to_owned();
        blocking(move || Ok(std::fs::create_dir_all(root)?)).await?;
        let directory = (self.directory)();
        // Taken before reading any listing: what is committed later is replayed.
        let head = self.store.outbox_head(&directory.scope_of_all()).await?;
        let stored = self.read_cursor().await;
        let owners = Self::catalog_owners(&directory);
        // Opening each index to check it reads files: on the blocking pool.
        let search = Arc::clone(&self.search);
        let stale: Vec<(String, String, IndexState)> = blocking(move || {
            Ok(owners
                .into_iter()
                .map(|(id, slug)| {
                    let state = search.state(&id);
                    (id, slug, state)
                })
                .filter(|(_, _, state)| stored.is_none() || *state != IndexState::Ready)
                .collect())
        })
        .await?;
        for (id, _, state) in &stale {
            if *state != IndexState::Ready {
                self.search.mark_building(id);
            }
        }
        let this = &*self;
        futures::stream::iter(stale)
            .map(|(id, slug, _)| async move {
                let started = Instant::now();
                (slug, this.rebuild(&id).await, started)
            })
            .buffer_unordered(this.search.writers())
            .for_each(|(slug, built, started)| async move {
                match built {
                    Ok(count) => tracing::info!(
                        tenant = %slug,
                        listings = count,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "search index built"
                    ),
                    Err(err) => {
                        tracing::error!(tenant = %slug, error = %err, "search index build failed")
                    }
                }
            })
            .await;
        self.cursor = match stored {
            Some(c) if c <= head => c,
            _ => head,
        };
        self.write_cursor().await?;
        Ok(())
    }

    /// One read of the outbox and the commits it calls for: how many messages were applied.
    pub async fn step(&mut self) -> Result<usize, SearchError> {
        let directory = (self.directory)();
        let scope = directory.scope_of_all();
        let messages = self
            .store
            .outbox_after(&scope, self.cursor, self.options.batch)
            .await?;
        let fresh: Vec<&OutboxMessage> = messages
            .iter()
            .filter(|m| !self.applied_above.contains(&m.id))
            .collect();
        let mut targets: Targets = BTreeMap::new();
        for m in &fresh {
            let payload: serde_json::Value =
                serde_json::from_str(&m.payload).unwrap_or(serde_json::Value::Null);
            match Topic::parse(&m.topic) {
                Some(Topic::Listing) => {
                    if let Some(listing) = payload.get("listing").and_then(|v| v.as_str()) {
                        targets
                            .entry(m.tenant_id.clone())
                            .or_default()
                            .insert(listing.to_owned());
                    }
                }
                Some(Topic::MasterProduct) => {
                    if let Some(product) = payload.get("product").and_then(|v| v.as_str()) {
                        for (tenant, listing) in
                            self.store.listings_of_master(&scope, product).await?
                        {
                            targets.entry(tenant).or_default().insert(listing);
                        }
                    }
                }
                _ => {}
            }
        }
        let owners: HashMap<String, String> =
            Self::catalog_owners(&directory).into_iter().collect();
        for (tenant, ids) in targets {
            let Some(slug) = owners.get(&tenant) else {
                continue;
            };
            self.apply(&scope, &tenant, slug, ids).await?;
        }
        let applied = fresh.len();
        for m in &messages {
            self.applied_above.insert(m.id);
        }
        self.advance();
        if !messages.is_empty() {
            self.write_cursor().await?;
        }
        Ok(applied)
    }

    async fn apply(
        &self,
        scope: &portico_store::TenantScope,
        tenant: &str,
        slug: &str,
        ids: BTreeSet<String>,
    ) -> Result<(), SearchError> {
        let search = Arc::clone(&self.search);
        let owner = tenant.to_owned();
        if !blocking(move || Ok(search.is_ready(&owner))).await? {
            // A new catalog owner, or an index lost while running: build it whole.
            let count = self.rebuild(tenant).await?;
            tracing::info!(tenant = %slug, listings = count, "search index built");
            return Ok(());
        }
        let ids: Vec<String> = ids.into_iter().collect();
        let found = self
            .store
            .listings_for_index(scope, tenant, Some(&ids))
            .await?;
        let mut changes: Vec<Change> = ids
            .iter()
            .filter(|id| !found.iter().any(|l| &l.listing.id == *id))
            .map(|id| Change::Delete(id.clone()))
            .collect();
        changes.extend(found.into_iter().map(|l| Change::Upsert(Box::new(l))));
        let count = changes.len();
        self.search.apply(tenant, changes).await?;
        tracing::debug!(tenant = %slug, documents = count, "search index updated");
        Ok(())
    }

    /// Moves the cursor over every contiguous applied id; over a hole only once it is older
    /// than `gap_wait`.
    fn advance(&mut self) {
        loop {
            while self.applied_above.remove(&(self.cursor + 1)) {
                self.cursor += 1;
            }
            let Some(&next) = self.applied_above.first() else {
                self.hole_since = None;
                return;
            };
            let since = *self.hole_since.get_or_insert_with(Instant::now);
            if since.elapsed() < self.options.gap_wait {
                return;
            }
            tracing::warn!(from = self.cursor + 1, to = next - 1, "outbox ids skipped");
            self.cursor = next - 1;
            self.hole_since = None;
        }
    }

    /// Runs until `shutdown` resolves: prepare, then tail.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        if let Err(err) = self.prepare().await {
            tracing::error!(error = %err, "search indexes could not be prepared");
        }
        loop {
            let applied = match self.step().await {
                Ok(n) => n,
                Err(err) => {
                    tracing::error!(error = %err, "search indexer step failed");
                    0
                }
            };
            if applied > 0 {
                continue;
            }
            // A write of this process wakes the indexer at once; the poll remains for the
            // writes of other processes (replicas, `portico` commands).
            let store = self.store.clone();
            tokio::select! {
                () = &mut shutdown => return,
                () = store.written() => {}
                () = tokio::time::sleep(self.options.poll) => {}
            }
        }
    }
}
