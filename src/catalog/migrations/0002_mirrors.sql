-- Mirrors. One row per mirror; `status` holds PeerDB's state names (STATUS_RUNNING, ...), `spec` the full
-- definition (table mappings and options) as JSONB.
CREATE TABLE mirrors (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  source_peer_id int NOT NULL REFERENCES peers (id),
  destination_peer_id int NOT NULL REFERENCES peers (id),
  status text NOT NULL DEFAULT 'STATUS_SETUP',
  spec jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
