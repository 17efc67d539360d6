-- The regional managers' workspace (issue 5): what the Region records beside the services,
-- optimistic-concurrency versions on every editable row, and the audit trail.
-- The PostgreSQL twin lives in ../postgres with the same tables, columns and constraint names.

-- Every editable row carries a version: a form sends back the version it was shown, and the
-- UPDATE matches it (`WHERE version = $n`); zero rows updated means somebody saved first.
ALTER TABLE adhesion ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pagopa_service ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE io_service ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE online_service ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- The Region's check of one objective of one comune: confirmed, or rejected with the reason.
CREATE TABLE objective_verification (
    programme    TEXT NOT NULL,
    comune       TEXT NOT NULL REFERENCES comune (codice_istat),
    objective    TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('confermato', 'respinto')),
    reason       TEXT,
    verified_on  TEXT NOT NULL,
    verified_by  TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (programme, comune, objective),
    FOREIGN KEY (programme, objective) REFERENCES objective (programme, code),
    CONSTRAINT objective_verification_reason CHECK (outcome = 'confermato' OR length(reason) > 0)
);

-- A reason why a comune is late: open until resolved_on is set.
CREATE TABLE blocker (
    id           INTEGER PRIMARY KEY,
    programme    TEXT NOT NULL REFERENCES programme (code),
    comune       TEXT NOT NULL REFERENCES comune (codice_istat),
    category     TEXT NOT NULL CHECK (category IN ('fornitore', 'delibera', 'personale', 'tecnico', 'altro')),
    description  TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    opened_on    TEXT NOT NULL,
    resolved_on  TEXT,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX blocker_comune_idx ON blocker (programme, comune, resolved_on);

-- What the Region noted about a comune (a phone call, a promise, a contact).
CREATE TABLE comune_note (
    id          INTEGER PRIMARY KEY,
    comune      TEXT NOT NULL REFERENCES comune (codice_istat),
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX comune_note_comune_idx ON comune_note (comune, id);

-- A service a comune's own user proposes; a Region user accepts it (it becomes a service) or
-- rejects it with a reason. payload is the proposed service as JSON.
CREATE TABLE service_proposal (
    id           INTEGER PRIMARY KEY,
    comune       TEXT NOT NULL REFERENCES comune (codice_istat),
    platform     TEXT NOT NULL CHECK (platform IN ('pagopa', 'io', 'spid_cie')),
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('in_attesa', 'accettata', 'respinta')),
    proposed_by  TEXT NOT NULL,
    proposed_at  TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    reason       TEXT,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX service_proposal_status_idx ON service_proposal (status, comune);

-- The audit trail: one entry per write, in the writer's transaction. seq is assigned by the
-- writer (last + 1, under the data_version row lock every write takes first); hash is the
-- SHA-256 of the entry's canonical JSON including prev_hash, the hash of entry seq - 1.
CREATE TABLE audit_entry (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    comune     TEXT,
    entity     TEXT NOT NULL,
    record     TEXT NOT NULL,
    action     TEXT NOT NULL,
    changes    TEXT NOT NULL,
    reason     TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_entry_comune_idx ON audit_entry (comune, seq);

-- Nobody rewrites the trail through the application's connection: a change needs the schema
-- changed first, and `traguardi audit verify` still finds it.
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;
