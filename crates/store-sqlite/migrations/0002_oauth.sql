-- The OAuth 2.0 / OpenID Connect provider: signing keys, authorization codes,
-- refresh tokens (in families, for reuse detection) and browser sessions.
-- Codes, tokens and session ids are stored as SHA-256 hashes only.

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY NOT NULL,
    algorithm      TEXT NOT NULL,
    -- The private key sealed with the master key (AES-256-GCM: nonce || ciphertext).
    sealed_private BLOB NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    retired_at     TEXT
);

CREATE TABLE token_families (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX token_families_revoked_idx ON token_families (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY NOT NULL,
    family_id      TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    family_id  TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rotated_at TEXT
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
