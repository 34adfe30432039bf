-- Browser sessions (tower-sessions' sqlx store reads and writes this table). The session id is
-- the secret; the row holds the signed-in identity, never a token a page script could use.
CREATE TABLE portico_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
CREATE INDEX portico_sessions_expiry ON portico_sessions (expiry_date);

-- The demo issuer signs with ES256 (fast to generate keys for); demo databases seeded before it
-- existed named RS256.
UPDATE identity_providers SET algorithms = 'ES256' WHERE issuer_url = 'urn:portico:demo';
