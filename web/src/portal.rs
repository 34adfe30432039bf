//! The portal of a request: its `Host` header, looked up in the domains of the directory.

use std::sync::{Arc, RwLock};

use axum::http::HeaderMap;
use axum::http::header::HOST;
use portico_store::Directory;
use portico_store::model::Tenant;

/// The in-memory directory of tenants and hosts, swapped whole when it is reloaded.
#[derive(Clone, Default)]
pub struct SharedDirectory(Arc<RwLock<Arc<Directory>>>);

impl SharedDirectory {
    pub fn new(directory: Directory) -> Self {
        SharedDirectory(Arc::new(RwLock::new(Arc::new(directory))))
    }

    pub fn current(&self) -> Arc<Directory> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, directory: Directory) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(directory);
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
