-- Live sync. Each user's data is one synchronised database with its own
-- revision, taken (and its row held) by every write to the user's records,
-- so revisions commit in order. The row outlives the user (a user deleted
-- and back later continues from where their devices are); it goes with the
-- project.
CREATE TABLE sync_databases (
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_did   TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_did)
);

-- The change log, compacted as it is written: one entry per record, live
-- or deleted (a tombstone), with the revision of its latest change, who
-- made it, and when each of its key paths was last set.
CREATE TABLE sync_log (
    project_id UUID NOT NULL,
    user_did   TEXT NOT NULL,
    table_name TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    deleted    BOOLEAN NOT NULL,
    source     TEXT,
    history    JSONB NOT NULL,
    PRIMARY KEY (project_id, user_did, table_name, item_id),
    FOREIGN KEY (project_id, user_did) REFERENCES sync_databases (project_id, user_did) ON DELETE CASCADE
);
CREATE INDEX sync_log_revision_idx ON sync_log (project_id, user_did, revision);

-- The client identities given to each user's devices.
CREATE TABLE sync_clients (
    client_id  TEXT PRIMARY KEY,
    project_id UUID NOT NULL,
    user_did   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (project_id, user_did) REFERENCES sync_databases (project_id, user_did) ON DELETE CASCADE
);

-- Records stored before sync existed: revision 1 of their user's database.
INSERT INTO sync_databases (project_id, user_did, revision)
    SELECT DISTINCT project_id, user_did, 1 FROM user_items;
INSERT INTO sync_log (project_id, user_did, table_name, item_id, revision, deleted, source, history)
    SELECT project_id, user_did, table_name, id, 1, FALSE, NULL, '{"created": {"rev": 1}}' FROM user_items;

-- Every node hears of every new revision, with the commit that made it and
-- in the commit's order: the nodes' sync connections read the log
-- themselves (the payload stays small). The channel is the store's
-- broadcast channel (`CHANNEL` in src/lib.rs; a test holds them equal).
CREATE FUNCTION sync_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('basic_admin_events', 'sync:' || NEW.project_id || ':' || NEW.revision || ':' || NEW.user_did);
    RETURN NULL;
END
$$;
CREATE TRIGGER sync_databases_notify AFTER INSERT OR UPDATE OF revision ON sync_databases
    FOR EACH ROW WHEN (NEW.revision > 0) EXECUTE FUNCTION sync_notify();
