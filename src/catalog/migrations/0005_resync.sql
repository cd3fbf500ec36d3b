-- A resync in progress: the snapshot loads shadow tables that replace the targets when it completes.
ALTER TABLE mirrors ADD COLUMN resync_pending boolean NOT NULL DEFAULT false;
