//! The portal of a request: its `Host` header, looked up in the domains of the directory.

use std::sync::{Arc, RwLock};

use axum::http::HeaderMap;
use axum::http::header::HOST;
use portico_store::model::Tenant;
use portico_store::{Directory, Store, StoreError};

/// The in-memory directory of tenants and hosts, with the `@directory` data version it is at
/// least as new as (`Store::versions`: triggers move it on every write to tenants and
/// domains). Swapped whole when a request finds that the version moved, so a new, changed or
/// suspended tenant is seen by the next request without a restart.
#[derive(Clone, Default)]
pub struct SharedDirectory {
    held: Arc<RwLock<(i64, Arc<Directory>)>>,
    /// One reload at a time: requests that find the same newer version wait for it and use it.
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl SharedDirectory {
    /// A directory read after its `version` was.
    pub fn new(directory: Directory, version: i64) -> Self {
        SharedDirectory {
            held: Arc::new(RwLock::new((version, Arc::new(directory)))),
            reloading: Arc::default(),
        }
    }

    pub fn current(&self) -> Arc<Directory> {
        self.held
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// The directory and the version it is at least as new as.
    pub fn snapshot(&self) -> (i64, Arc<Directory>) {
        self.held.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The directory at least as new as `version`, a `@directory` version read from the
    /// database: the one held when it is, else one reloaded now. The reload starts after the
    /// version was read, so it holds every write that version counts.
    pub async fn at_least(
        &self,
        store: &Store,
        version: i64,
    ) -> Result<Arc<Directory>, StoreError> {
        let (held, directory) = self.snapshot();
        if held >= version {
            return Ok(directory);
        }
        let _one_at_a_time = self.reloading.lock().await;
        let (held, directory) = self.snapshot();
        if held >= version {
            return Ok(directory);
        }
        let directory = Arc::new(store.load_directory().await?);
        tracing::debug!(version, "directory reloaded");
        let mut slot = self.held.write().unwrap_or_else(|e| e.into_inner());
        if slot.0 < version {
            *slot = (version, directory.clone());
        }
        Ok(directory)
    }

    /// The directory as of now: the `@directory` version read, and the directory reloaded if
    /// it moved. For the paths that do not read the data versions anyway (sign-in, the
    /// operations of a batch after a mutation).
    pub async fn fresh(&self, store: &Store) -> Result<Arc<Directory>, StoreError> {
        let version = store.versions("").await?.directory;
        self.at_least(store, version).await
    }
}

/// Why a request has no portal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    #[error("the request has no Host header")]
    MissingHost,
    #[error("no portal is served at host {0:?}")]
    UnknownHost(String),
}

/// `Northwind.localhost:8080` → `northwind.localhost`; IPv6 literals keep their brackets.
pub fn normalize_host(raw: &str) -> String {
    let raw = raw.trim().trim_end_matches('.');
    let host = if raw.starts_with('[') {
        raw.split_once(']').map_or(raw, |(h, _)| h).to_owned() + "]"
    } else {
        raw.rsplit_once(':').map_or(raw, |(h, _)| h).to_owned()
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The live tenant whose portal `headers` address.
pub fn resolve(directory: &Directory, headers: &HeaderMap) -> Result<Tenant, PortalError> {
    let raw = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty())
        .ok_or(PortalError::MissingHost)?;
    let host = normalize_host(raw);
    directory
        .tenant_for_host(&host)
        .cloned()
        .ok_or(PortalError::UnknownHost(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_port_case_and_trailing_dot() {
        assert_eq!(
            normalize_host("Northwind.LocalHost:8080"),
            "northwind.localhost"
        );
        assert_eq!(normalize_host("contoso.localhost."), "contoso.localhost");
        assert_eq!(normalize_host("[::1]:8080"), "[::1]");
        assert_eq!(normalize_host("platform.localhost"), "platform.localhost");
    }
}
