-- What a project's user agreed to share when connecting (the token's scopes).
ALTER TABLE project_users ADD COLUMN scopes TEXT NOT NULL DEFAULT '';

-- Items now belong to a connected user: deleting the user deletes them, and
-- an item cannot be written for a user who is not there.
ALTER TABLE user_items DROP CONSTRAINT user_items_project_id_fkey;
ALTER TABLE user_items ADD CONSTRAINT user_items_user_fkey
    FOREIGN KEY (project_id, user_did) REFERENCES project_users (project_id, user_did) ON DELETE CASCADE;

-- Each project's Ed25519 identity key: the public half as published in its
-- DID document, the private half sealed with the master key.
CREATE TABLE project_identity_keys (
    project_id     UUID PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    public_key     BYTEA NOT NULL,
    sealed_private BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
