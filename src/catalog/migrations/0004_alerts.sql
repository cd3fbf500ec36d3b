-- Alert destinations (PeerDB's alerting_config): where mirror alerts go. `service_config` holds the settings that
-- may be shown, as JSONB; secret settings (the Slack bot token) are sealed apart, the same way as peer_secrets
-- (see 0001_peers.sql for the encodings). `alert_for_mirrors` empty = every mirror.
CREATE TABLE alert_configs (
  id serial PRIMARY KEY,
  service_type text NOT NULL CHECK (service_type IN ('slack', 'email')),
  service_config jsonb NOT NULL,
  alert_for_mirrors text[] NOT NULL DEFAULT '{}',
  secret_encoding text NOT NULL CHECK (secret_encoding IN ('plain-json', 'aes-256-gcm')),
  secret_key_id text NOT NULL DEFAULT '',
  secret_payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
