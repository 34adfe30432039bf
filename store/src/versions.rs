//! The data versions every `/graphql` request reads first (migration `data_versions`), read
//! by one task on a connection it keeps, one statement for all the requests that asked while
//! its previous statement ran.
//!
//! Why not a pooled connection per read: the read is the statement run most often (on a
//! cached catalog page the only one), and sqlx pings a pooled connection when it is taken and
//! again when it goes back, so each read cost three round trips and one pool hand-over. Under
//! load the reads also queue for the database anyway; answering a queue with one statement
//! turns a queue of 30 into one round trip.
//!
//! Why this is never stale: a read joins only a statement not yet sent. Its statement starts
//! after the request asked, so it sees every write committed before the request arrived, as a
//! statement of its own would (read-your-writes across requests holds).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};
use tokio::sync::{mpsc, oneshot};

use crate::db::{Dialect, Pools};
use crate::{StoreError, Versions};

/// Requests answered by one statement at most (their owners go into one `IN` list).
const MAX_BATCH: usize = 256;
/// Requests waiting for the reader before `versions` waits for room (back-pressure).
const QUEUE: usize = 4096;
/// A kept connection goes back to the pool after this long without a read, so an idle
/// process holds none and the pool's own health checks apply again.
const KEEP_IDLE: Duration = Duration::from_secs(10);
/// A kept connection is replaced after this long even under steady load, as the pool's
/// `max_lifetime` (the same 30 minutes) would replace it (server-side memory, a failover).
const KEEP_AT_MOST: Duration = Duration::from_secs(30 * 60);

const IDENTITY: &str = "@identity";
const MASTER: &str = "*";
const DIRECTORY: &str = "@directory";

enum Message {
    Read {
        owner: String,
        reply: oneshot::Sender<Result<Versions, StoreError>>,
    },
    /// `Store::close`: give the connection back so the pool can close, and stop.
    Close(oneshot::Sender<()>),
}

/// The handle kept in the store; the task ends when the last store handle is dropped.
pub(crate) struct VersionReader {
    messages: mpsc::Sender<Message>,
}

enum Source {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

enum Kept {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl VersionReader {
    /// Spawns the reader on the current runtime.
    pub(crate) fn spawn(pools: &Pools) -> Self {
        let source = match pools {
            Pools::Sqlite { read, .. } => Source::Sqlite(read.clone()),
            Pools::Postgres { app, .. } => Source::Postgres(app.clone()),
        };
        let (messages, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(run(source, inbox));
        VersionReader { messages }
    }

    pub(crate) async fn read(&self, owner: &str) -> Result<Versions, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable("the data version reader stopped".to_owned());
        self.messages
            .send(Message::Read {
                owner: owner.to_owned(),
                reply,
            })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Stops the reader once it has given its connection back (`Store::close`).
    pub(crate) async fn close(&self) {
        let (done, released) = oneshot::channel();
        if self.messages.send(Message::Close(done)).await.is_ok() {
            let _ = released.await;
        }
    }
}

async fn run(source: Source, mut inbox: mpsc::Receiver<Message>) {
    let mut kept: Option<Kept> = None;
    let mut kept_since: Option<Instant> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        batch.clear();
        let received =
            match tokio::time::timeout(KEEP_IDLE, inbox.recv_many(&mut batch, MAX_BATCH)).await {
                Ok(n) => n,
                Err(_idle) => {
                    (kept, kept_since) = (None, None);
                    continue;
                }
            };
        if received == 0 {
            return; // every store handle is gone
        }
        let mut asks = Vec::with_capacity(batch.len());
        let mut close = None;
        for message in batch.drain(..) {
            match message {
                // A request that gave up (its client went away) costs nothing.
                Message::Read { reply, .. } if reply.is_closed() => {}
                Message::Read { owner, reply } => asks.push((owner, reply)),
                Message::Close(done) => close = Some(done),
            }
        }
        if let Some(done) = close {
            // The store is closing: its pool waits for every connection, so the reader
            // gives its own back and stops; reads asked now or later are refused.
            for (_, reply) in asks {
                let _ = reply.send(Err(StoreError::Unavailable("the store is closing".into())));
            }
            drop(kept);
            let _ = done.send(());
            return;
        }
        if asks.is_empty() {
            continue;
        }
        if kept_since.is_some_and(|since| since.elapsed() >= KEEP_AT_MOST) {
            (kept, kept_since) = (None, None);
        }
        let owners: HashSet<&str> = asks.iter().map(|(owner, _)| owner.as_str()).collect();
        let read = read_keys(&source, &mut kept, &owners.into_iter().collect::<Vec<_>>()).await;
        kept_since = kept
            .as_ref()
            .map(|_| kept_since.unwrap_or_else(Instant::now));
        match read {
            Ok(keys) => {
                let get = |key: &str| keys.get(key).copied().unwrap_or(0);
                for (owner, reply) in asks {
                    // The shared keys are never a reseller's own catalog.
                    let own = if [IDENTITY, MASTER, DIRECTORY].contains(&owner.as_str()) {
                        0
                    } else {
                        get(&owner)
                    };
                    let _ = reply.send(Ok(Versions {
                        identity: get(IDENTITY),
                        catalog: get(MASTER) + own,
                        directory: get(DIRECTORY),
                    }));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, requests = asks.len(), "cannot read the data versions");
                let message = match &err {
                    StoreError::Database(inner) => inner.to_string(),
                    other => other.to_string(),
                };
                for (_, reply) in asks {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
    }
}

/// The versions of `@identity`, `*`, `@directory` and `owners`, on the kept connection. A kept connection
/// may have been closed by the server while idle (a restart, `idle_session_timeout`): one
/// failure on it is retried once on a fresh connection before the batch fails.
async fn read_keys(
    source: &Source,
    kept: &mut Option<Kept>,
    owners: &[&str],
) -> Result<HashMap<String, i64>, StoreError> {
    let owners = serde_json::to_string(owners).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut retry = kept.is_some();
    loop {
        let conn = match kept.take() {
            Some(conn) => conn,
            None => match source {
                Source::Sqlite(pool) => Kept::Sqlite(pool.acquire().await?),
                Source::Postgres(pool) => Kept::Postgres(pool.acquire().await?),
            },
        };
        let (conn, result) = query(conn, &owners).await;
        match result {
            Ok(rows) => {
                *kept = Some(conn);
                return Ok(rows.into_iter().collect());
            }
            // The failed connection is dropped: the pool tests it on return and discards it.
            Err(err) if retry => {
                tracing::debug!(error = %err, "kept connection failed, retrying on a fresh one");
                retry = false;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

async fn query(mut conn: Kept, owners: &str) -> (Kept, Result<Vec<(String, i64)>, sqlx::Error>) {
    static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        [Dialect::Sqlite, Dialect::Postgres].map(|d| {
            format!(
                "SELECT tenant_id, CAST(version AS BIGINT) FROM data_versions \
                 WHERE tenant_id IN ('{IDENTITY}', '{MASTER}', '{DIRECTORY}') OR {}",
                d.in_json("tenant_id", 1)
            )
        })
    });
    let result = match &mut conn {
        Kept::Sqlite(c) => {
            sqlx::query_as(&SQL[0])
                .bind(owners)
                .fetch_all(&mut **c)
                .await
        }
        Kept::Postgres(c) => {
            sqlx::query_as(&SQL[1])
                .bind(owners)
                .fetch_all(&mut **c)
                .await
        }
    };
    (conn, result)
}
