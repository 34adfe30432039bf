//! List scopes computed ahead, so that no request pays for them (a kind of caller's first
//! request used to compute its scopes, about half a second of policy queries per kind of
//! caller, `bench/results/cold.md`):
//!
//! - at start, for every kind of caller in the database and the anonymous one (`at_start`),
//!   in the background while the server already serves; `/readyz` answers 503 until it is done,
//!   so a load balancer sends no traffic to a replica whose scopes are cold;
//! - at a policy reload, for the callers the running policy has seen, before the fresh policy
//!   is swapped in (`reload`, `Policies::reload`);
//! - after a role change, invitation or new service account, for that user's kind of caller
//!   (`Access::warm_ahead`).
//!
//! A request that still meets a caller whose scopes are missing computes them as before
//! (`graphql::execution`); one computing the same set as the warming waits for it instead of
//! computing it twice (`CachedAuthorizer::allowed_set` is single flight per actor and kind).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use portico_policies::{Actor, Policies, WARM_MAX_ACTORS};
use portico_store::{Directory, RoleSetInUse, Store, StoreError};

use crate::app::AppState;

/// Whether the start-up warming is done (or was never asked for): what `/readyz` waits for.
#[derive(Debug, Default)]
pub struct StartWarming {
    done: AtomicBool,
}

impl StartWarming {
    pub fn new(warm: bool) -> StartWarming {
        StartWarming {
            done: AtomicBool::new(!warm),
        }
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    fn finish(&self) {
        self.done.store(true, Ordering::Release);
    }
}

/// The kinds of caller in the database as the policy sees them, the anonymous one first, then
/// by how many users each covers, at most `WARM_MAX_ACTORS`.
pub async fn actors_in_database(
    store: &Store,
    directory: &Directory,
) -> Result<Vec<Actor>, StoreError> {
    let held = store.role_sets_in_use(&directory.scope_of_all()).await?;
    Ok(actors_of(directory, &held))
}

/// The actors of `held`, through the derivation the request uses (`authz::actor_for`).
fn actors_of(directory: &Directory, held: &[RoleSetInUse]) -> Vec<Actor> {
    let mut users: HashMap<Actor, u64> = HashMap::new();
    for set in held {
        // A deleted tenant's users never sign in again.
        let Some(tenant) = directory
            .tenant(&set.tenant_id)
            .filter(|t| t.deleted_at.is_none())
        else {
            continue;
        };
        *users
            .entry(portico_resolvers::authz::actor_for(
                tenant,
                &set.assignments,
            ))
            .or_default() += set.users;
    }
    let mut by_users: Vec<(Actor, u64)> = users.into_iter().collect();
    by_users.sort_by_key(|(_, users)| std::cmp::Reverse(*users));
    let mut actors = vec![Actor::anonymous()];
    actors.extend(by_users.into_iter().map(|(a, _)| a));
    if actors.len() > WARM_MAX_ACTORS {
        tracing::warn!(target: "portico::authz", actors = actors.len(), warmed = WARM_MAX_ACTORS,
            "more kinds of caller than the scope cache holds; the rest compute theirs at their first request");
        actors.truncate(WARM_MAX_ACTORS);
    }
    actors
}

/// Computes the list scopes of every kind of caller in the database on the running policy, on
/// as many blocking threads as there are cores (nothing is ready to serve yet), then marks the
/// start-up warming done. A failure is logged and ends the warming: readiness never waits on it
/// for longer than the warming takes.
pub async fn at_start(state: AppState) {
    if state.warming.is_done() {
        return;
    }
    let started = Instant::now();
    let directory = state.directory.current();
    let actors = match actors_in_database(&state.store, &directory).await {
        Ok(actors) => actors,
        Err(err) => {
            tracing::warn!(target: "portico::authz", error = %err,
                "cannot read the kinds of caller; their list scopes are computed at their first request");
            state.warming.finish();
            return;
        }
    };
    let authorizer = state.policies.current();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(actors.len())
        .max(1);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let mine: Vec<Actor> = actors.iter().skip(w).step_by(workers).cloned().collect();
            let authorizer = authorizer.clone();
            tokio::task::spawn_blocking(move || authorizer.warm(&mine))
        })
        .collect();
    let mut sets = 0;
    for task in tasks {
        match task.await {
            Ok(n) => sets += n,
            Err(err) => {
                tracing::warn!(target: "portico::authz", error = %err, "a list scope warming task failed")
            }
        }
    }
    state.warming.finish();
    tracing::info!(target: "portico::authz", actors = actors.len(), sets, workers,
        elapsed_ms = started.elapsed().as_millis() as u64, "list scopes computed ahead");
}

/// Loads the policy again on the blocking pool (compiling it and computing the list scopes of
/// the callers seen take seconds), logging the outcome; the running policy serves meanwhile
/// and stays when the new one fails to load.
pub async fn reload(policies: Arc<Policies>) {
    match tokio::task::spawn_blocking(move || policies.reload()).await {
        Ok(Ok(reloaded)) => tracing::info!(target: "portico::authz",
            actors_warmed = reloaded.actors_warmed,
            elapsed_ms = reloaded.elapsed.as_millis() as u64, "policy reloaded"),
        Ok(Err(err)) => {
            tracing::error!(target: "portico::authz", error = %err, "policy reload failed; the running policy stays")
        }
        Err(err) => {
            tracing::error!(target: "portico::authz", error = %err, "policy reload failed; the running policy stays")
        }
    }
}
