-- Alerts that were sent (PeerDB's alerts_v1), one row per alert and destination, delivered or not. The newest row
-- for an (alert_config_id, alert_key) pair is the de-duplication window: the same alert is not sent to the same
-- destination again within PEERDB_ALERTING_GAP_MINUTES. `error` holds why a delivery failed (never a secret).
-- No foreign key: the history outlives a dropped alert config, whose name is kept here.
CREATE TABLE alerts (
  id bigserial PRIMARY KEY,
  alert_config_id int NOT NULL,
  alert_config_name text NOT NULL,
  alert_key text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('slot_lag', 'mirror_error', 'stale_batches')),
  mirror text NOT NULL,
  message text NOT NULL,
  delivered boolean NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_dedup_idx ON alerts (alert_config_id, alert_key, created_at DESC);
