-- Each user table's record count and the last `seq` it gave, kept with
-- every create and delete: the limit on records per table is checked, and
-- the next `seq` taken, without counting rows.
CREATE TABLE user_tables (
    project_id UUID NOT NULL,
    user_did   TEXT NOT NULL,
    table_name TEXT NOT NULL,
    records    BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_did, table_name),
    FOREIGN KEY (project_id, user_did) REFERENCES project_users (project_id, user_did) ON DELETE CASCADE
);
INSERT INTO user_tables (project_id, user_did, table_name, records, last_seq)
    SELECT project_id, user_did, table_name, COUNT(*), MAX(seq) FROM user_items
    GROUP BY project_id, user_did, table_name;
