-- Items keep the ids their clients choose (the sync protocol makes ids on
-- the device): any text, unique within one user's table. `seq` numbers the
-- items of a table in the order they were made, which is the order lists
-- give (two made at once may share one, and go by id).
ALTER TABLE user_items DROP CONSTRAINT user_items_pkey;
ALTER TABLE user_items ALTER COLUMN id TYPE TEXT USING id::text;
ALTER TABLE user_items ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE user_items SET seq = ordered.n
FROM (
    SELECT project_id, user_did, table_name, id,
           ROW_NUMBER() OVER (PARTITION BY project_id, user_did, table_name ORDER BY created_at, id) AS n
    FROM user_items
) AS ordered
WHERE user_items.project_id = ordered.project_id AND user_items.user_did = ordered.user_did
  AND user_items.table_name = ordered.table_name AND user_items.id = ordered.id;
ALTER TABLE user_items ALTER COLUMN seq DROP DEFAULT;
ALTER TABLE user_items ADD CONSTRAINT user_items_pkey PRIMARY KEY (project_id, user_did, table_name, id);
DROP INDEX user_items_table_idx;
CREATE INDEX user_items_order_idx ON user_items (project_id, user_did, table_name, seq, id);
