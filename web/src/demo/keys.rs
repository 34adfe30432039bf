//! The demo issuer's signing keys: a `KeyRing` in the data directory, and its access tokens.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use portico_store::model::User;
use portico_store::seed::DEMO_ISSUER;
use serde_json::json;

use super::DEMO_AUDIENCE;
use crate::signing::KeyRing;
pub use crate::signing::KeyRingError as DemoIssuerError;

/// The demo issuer's key file of a data directory.
#[derive(Debug, Clone)]
pub struct DemoKeys(KeyRing);

impl std::ops::Deref for DemoKeys {
    type Target = KeyRing;
    fn deref(&self) -> &KeyRing {
        &self.0
    }
}

impl DemoKeys {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        DemoKeys(KeyRing::at(
            data_dir.join("demo-issuer").join("keys.json"),
            "demo",
        ))
    }

    /// A bearer token for a demo user, as the token endpoint and `portico token` issue it.
    pub fn access_token(&self, user: &User, ttl: Duration) -> Result<String, DemoIssuerError> {
        let now = Utc::now().timestamp();
        self.sign(&json!({
            "iss": DEMO_ISSUER,
            "sub": user.subject,
            "aud": DEMO_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs() as i64,
            "jti": uuid::Uuid::new_v4().to_string(),
            "email": user.email,
        }))
    }
}
