-- What a project's user agreed to share when connecting (the token's scopes).
ALTER TABLE project_users ADD COLUMN scopes TEXT NOT NULL DEFAULT '';

-- Items now belong to a connected user: deleting the user deletes them, and
-- an item cannot be written for a user who is not there. Nothing was stored
-- in the table before this migration.
DROP TABLE user_items;
CREATE TABLE user_items (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    user_did   TEXT NOT NULL,
    table_name TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (project_id, user_did) REFERENCES project_users (project_id, user_did) ON DELETE CASCADE
);
-- Item ids are time-ordered, so this index also gives creation order.
CREATE INDEX user_items_table_idx ON user_items (project_id, user_did, table_name, id);

-- Each project's Ed25519 identity key: the public half as published in its
-- DID document, the private half sealed with the master key.
CREATE TABLE project_identity_keys (
    project_id     TEXT PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    public_key     BLOB NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     TEXT NOT NULL
);
