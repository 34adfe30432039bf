-- Browser sessions (tower-sessions' sqlx store reads and writes this table). Created here, by the
-- owner, because the runtime role may create nothing. Not a tenant table: the session id is the
-- secret, and a session only names a user that every request then re-reads under its scope.
CREATE TABLE portico_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
CREATE INDEX portico_sessions_expiry ON portico_sessions (expiry_date);
GRANT SELECT, INSERT, UPDATE, DELETE ON portico_sessions TO portico_app;

-- The demo issuer signs with ES256 (fast to generate keys for); demo databases seeded before it
-- existed named RS256.
UPDATE identity_providers SET algorithms = 'ES256' WHERE issuer_url = 'urn:portico:demo';
