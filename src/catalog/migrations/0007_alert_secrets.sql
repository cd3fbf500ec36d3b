-- The sealed secret of an alert config (the Slack bot token) moves to a table of its own, like peer_secrets, so
-- that `SELECT * FROM alert_configs` through the gateway never shows a token, even one stored as plain-json
-- (no PGMIRROR_ENCRYPTION_KEY). The gateway refuses to read alert_secrets.
CREATE TABLE alert_secrets (
  alert_config_id int PRIMARY KEY REFERENCES alert_configs (id) ON DELETE CASCADE,
  encoding text NOT NULL CHECK (encoding IN ('plain-json', 'aes-256-gcm')),
  key_id text NOT NULL DEFAULT '',
  payload text NOT NULL
);
INSERT INTO alert_secrets (alert_config_id, encoding, key_id, payload)
  SELECT id, secret_encoding, secret_key_id, secret_payload FROM alert_configs;
ALTER TABLE alert_configs DROP COLUMN secret_encoding, DROP COLUMN secret_key_id, DROP COLUMN secret_payload;
