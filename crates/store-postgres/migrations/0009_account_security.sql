-- Proven email addresses, and the single-use links mailed to prove one or to
-- reset a password. Links are stored as SHA-256 hashes only.
ALTER TABLE accounts ADD COLUMN email_verified_at TIMESTAMPTZ;

CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 'verify_email' or 'reset_password'.
    purpose    TEXT NOT NULL,
    -- The address the link was mailed to: proving it proves only this one.
    email      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX account_links_account_idx ON account_links (account_id, purpose);
CREATE INDEX account_links_expires_idx ON account_links (expires_at);

-- What the account page shows of each browser signed in: the browser, and
-- when it was last seen (updated at most every few minutes).
ALTER TABLE sessions ADD COLUMN device TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMPTZ;

-- Two-factor sign-in (TOTP): the secret sealed with the master key, unconfirmed
-- until a first code proves the authenticator has it, and the last time step
-- accepted (a code works once). Recovery codes as SHA-256 hashes, each once.
CREATE TABLE account_totp (
    account_id    UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret BYTEA NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE recovery_codes (
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (account_id, code_hash)
);
