-- Imports (CSV or XLSX files of adhesions, services and count snapshots). Every uploaded file is
-- kept, whether it was only tried (`in_prova`: the dry run) or applied (`applicata`): the file
-- is the evidence of the change, and each trail entry of an applied import names the batch.
-- report: the dry-run report as it stood when the import was applied (JSON), since a later
-- dry run of the same file would only say "unchanged".
CREATE TABLE import_batch (
    id           INTEGER PRIMARY KEY,
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    content      BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('in_prova', 'applicata')),
    applied_at   TEXT,
    report       TEXT
);
CREATE INDEX import_batch_recent_idx ON import_batch (id DESC);
