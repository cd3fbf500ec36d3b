-- Peers. `type` keeps PeerDB's DBType numbers (POSTGRES=3, CLICKHOUSE=8, KAFKA=9) so PeerDB habits carry over;
-- `type_name` and `config` (JSONB, secrets removed) are there to be read by a person.
CREATE TABLE peers (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  type int NOT NULL,
  type_name text NOT NULL,
  config jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Secret option values (passwords, private keys), kept apart so that reading `peers` never shows one.
-- encoding: 'plain-json' = a JSON object in clear (no PGMIRROR_ENCRYPTION_KEY set);
--           'aes-256-gcm' = base64(12-byte nonce || ciphertext || 16-byte tag) of that JSON object,
--           key_id = first 8 hex digits of sha256(key) so a wrong key is detected, never silently misread.
CREATE TABLE peer_secrets (
  peer_id int PRIMARY KEY REFERENCES peers (id) ON DELETE CASCADE,
  encoding text NOT NULL CHECK (encoding IN ('plain-json', 'aes-256-gcm')),
  key_id text NOT NULL DEFAULT '',
  payload text NOT NULL
);
