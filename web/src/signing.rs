//! ES256 signing keys kept in a file: the demo issuer's (`<data_dir>/demo-issuer/keys.json`)
//! and Portico's own, which signs service-account tokens (`<data_dir>/issuer/keys.json`). The
//! newest key signs; the one before it stays published so tokens survive a rotation. The file
//! is the state: every process reading it agrees.

use std::path::PathBuf;

use chrono::Utc;
use p256::SecretKey;
use p256::pkcs8::EncodePrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Published keys: the signing key and the one it replaced.
const PUBLISHED_KEYS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("signing keys at {path}: {message}")]
    Keys { path: PathBuf, message: String },
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_at: i64,
    /// The private key as a JWK (kty EC, crv P-256, x, y, d).
    private_jwk: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyFile {
    /// Newest first.
    keys: Vec<StoredKey>,
}

/// A key file: ES256 keys, newest first, the newest signing.
#[derive(Debug, Clone)]
pub struct KeyRing {
    path: PathBuf,
    /// Starts every key id (`demo-…`, `portico-…`): says which ring a token's key is from.
    prefix: &'static str,
}

impl KeyRing {
    pub fn at(path: PathBuf, prefix: &'static str) -> Self {
        KeyRing { path, prefix }
    }

    /// Whether a key id is of this ring's making (not whether the key is still published).
    pub fn made(&self, kid: &str) -> bool {
        kid.strip_prefix(self.prefix)
            .is_some_and(|rest| rest.starts_with('-'))
    }

    fn error(&self, message: impl ToString) -> KeyRingError {
        KeyRingError::Keys {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    /// The keys, creating the file with one key if there is none yet.
    fn load(&self) -> Result<KeyFile, KeyRingError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| self.error(e))?;
                if file.keys.is_empty() {
                    return Err(self.error("holds no keys; delete it to start over"));
                }
                Ok(file)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let file = KeyFile {
                    keys: vec![new_key(self.prefix)],
                };
                self.write(&file, false)?;
                // Another process may have won the race to create it: read what is there.
                self.load_existing()
            }
            Err(e) => Err(self.error(e)),
        }
    }

    fn load_existing(&self) -> Result<KeyFile, KeyRingError> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| self.error(e))
    }

    /// Writes through a temporary file so a reader never sees half a file. With `replace`
    /// false an existing file is kept (first writer wins).
    fn write(&self, file: &KeyFile, replace: bool) -> Result<(), KeyRingError> {
        let dir = self.path.parent().expect("the key file has a directory");
        std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        let tmp = dir.join(format!(".keys.{}.tmp", uuid::Uuid::new_v4()));
        let body = serde_json::to_vec_pretty(file).expect("keys serialize");
        std::fs::write(&tmp, body).map_err(|e| self.error(e))?;
        let result = if replace {
            std::fs::rename(&tmp, &self.path)
        } else {
            std::fs::hard_link(&tmp, &self.path).or_else(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(e)
                }
            })
        };
        let _ = std::fs::remove_file(&tmp);
        result.map_err(|e| self.error(e))
    }

    /// Makes a new signing key; the previous one stays published until the next rotation.
    pub fn rotate(&self) -> Result<String, KeyRingError> {
        let mut file = self.load()?;
        let key = new_key(self.prefix);
        let kid = key.kid.clone();
        file.keys.insert(0, key);
        file.keys.truncate(PUBLISHED_KEYS);
        self.write(&file, true)?;
        Ok(kid)
    }

    /// The public keys, as a JWKS document.
    pub fn jwks(&self) -> Result<Value, KeyRingError> {
        let file = self.load()?;
        let keys = file
            .keys
            .iter()
            .map(|k| {
                let secret = SecretKey::from_jwk_str(&k.private_jwk).map_err(|e| self.error(e))?;
                let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())
                    .map_err(|e| self.error(e))?;
                jwk["kid"] = json!(k.kid);
                jwk["alg"] = json!("ES256");
                jwk["use"] = json!("sig");
                Ok(jwk)
            })
            .collect::<Result<Vec<_>, KeyRingError>>()?;
        Ok(json!({ "keys": keys }))
    }

    /// Signs `claims` with the newest key.
    pub fn sign(&self, claims: &Value) -> Result<String, KeyRingError> {
        let file = self.load()?;
        let key = &file.keys[0];
        let secret = SecretKey::from_jwk_str(&key.private_jwk).map_err(|e| self.error(e))?;
        let der = secret.to_pkcs8_der().map_err(|e| self.error(e))?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
        )?)
    }
}

fn new_key(prefix: &str) -> StoredKey {
    let secret = SecretKey::random(&mut rand::rngs::OsRng);
    StoredKey {
        kid: format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ),
        created_at: Utc::now().timestamp(),
        private_jwk: secret.to_jwk_string().to_string(),
    }
}
