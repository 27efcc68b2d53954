-- The tables of basic-admin on PostgreSQL. Ids are UUIDs, times TIMESTAMPTZ,
-- JSON documents JSONB. Later migrations add columns; these stay.

CREATE TABLE accounts (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL,
    username      TEXT,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username)) WHERE username IS NOT NULL;

CREATE TABLE teams (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT teams_slug_key UNIQUE (slug)
);

CREATE TABLE team_members (
    team_id    UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    roles      TEXT NOT NULL,
    role_name  TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, account_id)
);
CREATE INDEX team_members_account_idx ON team_members (account_id);
-- Exactly one owner per team: at most one here, at least one by the service.
CREATE UNIQUE INDEX team_members_one_owner ON team_members (team_id) WHERE roles = 'owner';

CREATE TABLE team_invites (
    id           UUID PRIMARY KEY,
    team_id      UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    invitee_kind TEXT NOT NULL CHECK (invitee_kind IN ('email', 'username')),
    invitee      TEXT NOT NULL,
    roles        TEXT NOT NULL,
    role_name    TEXT,
    invited_by   UUID REFERENCES accounts (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    accepted_by  UUID REFERENCES accounts (id) ON DELETE SET NULL
);
CREATE INDEX team_invites_team_idx ON team_invites (team_id, created_at);

CREATE TABLE projects (
    id         UUID PRIMARY KEY,
    team_id    UUID NOT NULL REFERENCES teams (id) ON DELETE RESTRICT,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    website    TEXT,
    profile    JSONB NOT NULL DEFAULT '{}',
    settings   JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT projects_slug_key UNIQUE (slug)
);
CREATE INDEX projects_team_idx ON projects (team_id, created_at);

CREATE TABLE api_keys (
    id          UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    roles       TEXT NOT NULL,
    is_private  BOOLEAN NOT NULL DEFAULT TRUE,
    secret_hash BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    last_used   TIMESTAMPTZ
);
CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at);

CREATE TABLE schema_versions (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    schema     JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT schema_versions_project_id_version_key UNIQUE (project_id, version)
);

CREATE TABLE project_users (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_did     TEXT NOT NULL,
    pds_url      TEXT NOT NULL,
    status       TEXT NOT NULL,
    meta         JSONB NOT NULL DEFAULT '{}',
    account_id   UUID REFERENCES accounts (id) ON DELETE SET NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT project_users_project_id_user_did_key UNIQUE (project_id, user_did)
);

CREATE TABLE user_activity (
    project_id UUID NOT NULL,
    user_did   TEXT NOT NULL,
    day        DATE NOT NULL,
    PRIMARY KEY (project_id, day, user_did),
    FOREIGN KEY (project_id, user_did) REFERENCES project_users (project_id, user_did) ON DELETE CASCADE
);

CREATE TABLE user_items (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_did   TEXT NOT NULL,
    table_name TEXT NOT NULL,
    value      JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- Item ids are time-ordered, so this index also gives creation order.
CREATE INDEX user_items_table_idx ON user_items (project_id, user_did, table_name, id);

CREATE TABLE uploads (
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('icon', 'background')),
    object_key   TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, kind)
);
