-- User administration (issue 16): a version for optimistic concurrency on role changes, and
-- invitations. An invitation is a user row that has no identity yet: issuer '' and subject
-- 'invitation:<id>' (unique, and no token's issuer is ever empty), `invited_at` set until the
-- invited person first signs in with a verified email, when the identity is bound to the row.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN invited_at TEXT;
ALTER TABLE users ADD COLUMN invited_by TEXT;
