-- Evidence (issue 6): the files a comune uploads to prove an objective reached, and the
-- Region's reviews of them. The PostgreSQL twin lives in ../postgres with the same tables,
-- columns and constraint names.

-- One uploaded file. The bytes live in the object store under storage_key (generated, never
-- the user's name); the row is written only after the file is complete under that key, in
-- the same transaction as its audit entry, so a row always has its file. file_name is the
-- original name, kept for display only.
CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY,
    programme     TEXT NOT NULL,
    comune        TEXT NOT NULL REFERENCES comune (codice_istat),
    objective     TEXT NOT NULL,
    version       INTEGER NOT NULL CHECK (version > 0),
    file_name     TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type  TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'application/pkcs7-mime', 'image/png', 'image/jpeg')),
    size_bytes    INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    storage_key   TEXT NOT NULL UNIQUE,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL,
    FOREIGN KEY (programme, objective) REFERENCES objective (programme, code),
    -- Versions count up per objective; the same bytes are stored once per objective.
    CONSTRAINT evidence_version_unique UNIQUE (programme, comune, objective, version),
    CONSTRAINT evidence_sha256_unique UNIQUE (programme, comune, objective, sha256)
);
CREATE INDEX evidence_uploaded_idx ON evidence (uploaded_at, id);

-- The Region's review of one upload. A file may be reviewed again (the latest review counts);
-- every review stays. Anything but positivo says why.
CREATE TABLE evidence_review (
    id           INTEGER PRIMARY KEY,
    evidence     INTEGER NOT NULL REFERENCES evidence (id),
    outcome      TEXT NOT NULL CHECK (outcome IN ('positivo', 'parzialmente_positivo', 'negativo')),
    reason       TEXT CHECK (reason IS NULL OR length(reason) <= 4000),
    reviewed_by  TEXT NOT NULL,
    reviewed_at  TEXT NOT NULL,
    CONSTRAINT evidence_review_reason CHECK (outcome = 'positivo' OR length(reason) > 0)
);
CREATE INDEX evidence_review_evidence_idx ON evidence_review (evidence, id);
