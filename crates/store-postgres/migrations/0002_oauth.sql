-- The OAuth 2.0 / OpenID Connect provider: signing keys, authorization codes,
-- refresh tokens (in families, for reuse detection) and browser sessions.
-- Codes, tokens and session ids are stored as SHA-256 hashes only.

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    -- The private key sealed with the master key (AES-256-GCM: nonce || ciphertext).
    sealed_private BYTEA NOT NULL,
    public_jwk     JSONB NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    retired_at     TIMESTAMPTZ
);

CREATE TABLE token_families (
    id         UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX token_families_revoked_idx ON token_families (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY,
    family_id      UUID NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  UUID NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
