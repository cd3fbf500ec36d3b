-- Mirror progress, readable by a person: `SELECT * FROM mirrors` shows state, LSNs and the last error;
-- `mirror_tables` shows snapshot progress and rows synced per table.
ALTER TABLE mirrors
  ADD COLUMN generation int NOT NULL DEFAULT 1,
  ADD COLUMN slot_name text,
  ADD COLUMN publication_name text,
  ADD COLUMN owns_slot boolean NOT NULL DEFAULT true,
  ADD COLUMN owns_publication boolean NOT NULL DEFAULT true,
  ADD COLUMN consistent_lsn pg_lsn,
  ADD COLUMN snapshot_name text,
  ADD COLUMN snapshot_recovered boolean NOT NULL DEFAULT false,
  ADD COLUMN last_synced_lsn pg_lsn,
  ADD COLUMN last_batch_id bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_batch_at timestamptz,
  ADD COLUMN last_commit_time timestamptz,
  ADD COLUMN rows_synced bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_error text,
  ADD COLUMN last_error_at timestamptz;

CREATE TABLE mirror_tables (
  mirror_id int NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
  source_table text NOT NULL,
  destination_table text NOT NULL,
  snapshot_state text NOT NULL DEFAULT 'pending' CHECK (snapshot_state IN ('pending', 'running', 'done', 'skipped')),
  partitions_total int NOT NULL DEFAULT 0,
  partitions_done int NOT NULL DEFAULT 0,
  rows_copied bigint NOT NULL DEFAULT 0,
  inserts bigint NOT NULL DEFAULT 0,
  updates bigint NOT NULL DEFAULT 0,
  deletes bigint NOT NULL DEFAULT 0,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mirror_id, source_table)
);

-- One row per snapshot partition: a restart or a resume redoes only the rows not marked done.
CREATE TABLE snapshot_partitions (
  mirror_id int NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
  generation int NOT NULL,
  source_table text NOT NULL,
  partition_index int NOT NULL,
  start_block bigint NOT NULL,
  end_block bigint,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
  rows bigint,
  done_at timestamptz,
  PRIMARY KEY (mirror_id, generation, source_table, partition_index)
);

-- One row per CDC batch written to the target (PeerDB's cdc_batches).
CREATE TABLE cdc_batches (
  mirror_id int NOT NULL REFERENCES mirrors (id) ON DELETE CASCADE,
  batch_id bigint NOT NULL,
  start_lsn pg_lsn NOT NULL,
  end_lsn pg_lsn NOT NULL,
  rows int NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mirror_id, batch_id)
);
