//! Issuer metadata and signing keys, fetched on demand and cached per issuer.
//!
//! A token whose `kid` is not in the cached JWKS triggers a refetch, at most once per
//! `jwks_refetch_seconds` per issuer: a stream of forged `kid`s cannot turn Portico into a
//! request amplifier against the identity provider. The demo issuer is answered in-process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AuthUrl, EmptyAdditionalProviderMetadata, IssuerUrl, JsonWebKeySetUrl, ResponseTypes, TokenUrl,
};
use portico_store::seed::DEMO_ISSUER;

use crate::demo::DemoIssuer;

/// One issuer's metadata and keys, as last fetched.
pub struct IssuerKeys {
    pub metadata: CoreProviderMetadata,
    pub jwks: jsonwebtoken::jwk::JwkSet,
    fetched_at: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("fetching {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("issuer {0}: discovery names another issuer ({1})")]
    IssuerMismatch(String, String),
    #[error("issuer {0}: {1}")]
    Invalid(String, String),
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<IssuerKeys>>>>;

pub struct KeyCache {
    http: reqwest::Client,
    demo: Option<Arc<DemoIssuer>>,
    ttl: Duration,
    refetch_interval: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl KeyCache {
    pub fn new(
        http: reqwest::Client,
        demo: Option<Arc<DemoIssuer>>,
        ttl: Duration,
        refetch_interval: Duration,
    ) -> Self {
        KeyCache {
            http,
            demo,
            ttl,
            refetch_interval,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, issuer: &str) -> Slot {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(issuer.to_owned())
            .or_default()
            .clone()
    }

    /// The issuer's keys; fetched when missing or older than the TTL.
    pub async fn get(&self, issuer: &str) -> Result<Arc<IssuerKeys>, KeysError> {
        let slot = self.slot(issuer);
        // One fetch per issuer at a time; others wait for its result instead of fetching too.
        let mut cached = slot.lock().await;
        if let Some(keys) = cached.as_ref()
            && keys.fetched_at.elapsed() < self.ttl
        {
            return Ok(keys.clone());
        }
        let fresh = Arc::new(self.fetch(issuer).await?);
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// The issuer's keys once they include `kid`, refetching if the rate limit allows.
    pub async fn get_with_kid(
        &self,
        issuer: &str,
        kid: &str,
    ) -> Result<Arc<IssuerKeys>, KeysError> {
        let keys = self.get(issuer).await?;
        if keys.jwks.find(kid).is_some() {
            return Ok(keys);
        }
        let slot = self.slot(issuer);
        let mut cached = slot.lock().await;
        if let Some(current) = cached.as_ref()
            && (current.jwks.find(kid).is_some()
                || current.fetched_at.elapsed() < self.refetch_interval)
        {
            return Ok(current.clone());
        }
        tracing::info!(issuer, kid, "unknown key id, refetching the issuer's keys");
        let fresh = Arc::new(self.fetch(issuer).await?);
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch(&self, issuer: &str) -> Result<IssuerKeys, KeysError> {
        let (metadata, jwks_json) = match &self.demo {
            Some(demo) if issuer == DEMO_ISSUER => demo_metadata(demo)?,
            _ => self.discover(issuer).await?,
        };
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks_json.clone())
            .map_err(|e| KeysError::Invalid(issuer.into(), format!("JWKS: {e}")))?;
        let core_jwks: CoreJsonWebKeySet = serde_json::from_value(jwks_json)
            .map_err(|e| KeysError::Invalid(issuer.into(), format!("JWKS: {e}")))?;
        Ok(IssuerKeys {
            metadata: metadata.set_jwks(core_jwks),
            jwks,
            fetched_at: Instant::now(),
        })
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, KeysError> {
        let failed = |message: String| KeysError::Fetch {
            url: url.to_owned(),
            message,
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status())));
        }
        response.json().await.map_err(|e| failed(e.to_string()))
    }

    async fn discover(
        &self,
        issuer: &str,
    ) -> Result<(CoreProviderMetadata, serde_json::Value), KeysError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document = self.get_json(&url).await?;
        let metadata: CoreProviderMetadata = serde_json::from_value(document)
            .map_err(|e| KeysError::Invalid(issuer.into(), format!("discovery: {e}")))?;
        if metadata.issuer().as_str() != issuer {
            return Err(KeysError::IssuerMismatch(
                issuer.into(),
                metadata.issuer().to_string(),
            ));
        }
        let jwks = self.get_json(metadata.jwks_uri().as_str()).await?;
        Ok((metadata, jwks))
    }
}

/// The demo issuer's metadata, built in-process. The authorization endpoint is a placeholder:
/// sign-in replaces it with the portal's own origin, which the browser can reach.
fn demo_metadata(
    demo: &DemoIssuer,
) -> Result<(CoreProviderMetadata, serde_json::Value), KeysError> {
    let invalid = |e: &dyn std::fmt::Display| KeysError::Invalid(DEMO_ISSUER.into(), e.to_string());
    let base = demo.token_endpoint().trim_end_matches("/token").to_owned();
    let metadata = CoreProviderMetadata::new(
        IssuerUrl::new(DEMO_ISSUER.into()).map_err(|e| invalid(&e))?,
        AuthUrl::new(format!("{base}/authorize")).map_err(|e| invalid(&e))?,
        JsonWebKeySetUrl::new(format!("{base}/jwks")).map_err(|e| invalid(&e))?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256],
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(
        TokenUrl::new(demo.token_endpoint()).map_err(|e| invalid(&e))?,
    ));
    let jwks = demo.keys.jwks().map_err(|e| invalid(&e))?;
    Ok((metadata, jwks))
}
