-- Alert configs get a name, so SQL can address them (CREATE / ALTER / DROP ALERT name). Configs made over REST,
-- which has no name field (PeerDB's shape), are named alert_<id>.
ALTER TABLE alert_configs ADD COLUMN name text;
UPDATE alert_configs SET name = 'alert_' || id;
ALTER TABLE alert_configs ALTER COLUMN name SET NOT NULL;
ALTER TABLE alert_configs ADD CONSTRAINT alert_configs_name_key UNIQUE (name);
