-- Items keep the ids their clients choose (the sync protocol makes ids on
-- the device): any text, unique within one user's table. `seq` numbers the
-- items of a table in the order they were made, which is the order lists
-- give. SQLite cannot change a primary key in place: the table is copied.
CREATE TABLE user_items_new (
    id         TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_did   TEXT NOT NULL,
    table_name TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, user_did, table_name, id),
    FOREIGN KEY (project_id, user_did) REFERENCES project_users (project_id, user_did) ON DELETE CASCADE
);
INSERT INTO user_items_new (id, project_id, user_did, table_name, seq, value, created_at, updated_at)
    SELECT id, project_id, user_did, table_name,
           ROW_NUMBER() OVER (PARTITION BY project_id, user_did, table_name ORDER BY created_at, id),
           value, created_at, updated_at
    FROM user_items;
DROP TABLE user_items;
ALTER TABLE user_items_new RENAME TO user_items;
CREATE INDEX user_items_order_idx ON user_items (project_id, user_did, table_name, seq, id);
