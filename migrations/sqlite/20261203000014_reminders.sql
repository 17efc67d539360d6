-- Reminders by e-mail (issue 18; SQLite twin of ../postgres). Private: recipients, subjects and
-- bodies are read by the Region (the log), and a comune's by whoever reads its private data
-- (its trail). Times are Unix seconds.

-- Every message, recorded before it is sent. `dedup_key` (kind, person, occasion) is unique, so
-- a second run of the same day, a restart or a second instance never records (or sends) it twice.
-- status: 'in_coda' (waiting, or retried at `next_attempt_at`), 'invio' (claimed by a sender),
-- 'inviato' (accepted by the SMTP server), 'fallito' (given up: too many attempts, a permanent
-- refusal, or interrupted while sending and never repeated).
CREATE TABLE reminder_message (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key        TEXT NOT NULL UNIQUE,
    user_id          INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    recipient        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('scadenza', 'ritardo', 'settimanale', 'mensile')),
    occasion         TEXT NOT NULL,
    -- The comune a comune's reminder is about; NULL for the Region's and the assessors' digests.
    comune           TEXT REFERENCES comune (codice_istat),
    -- The day the reminder is for (YYYY-MM-DD).
    day              TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'in_coda' CHECK (status IN ('in_coda', 'invio', 'inviato', 'fallito')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claimed_at       INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX reminder_message_due_idx ON reminder_message (status, next_attempt_at);
CREATE INDEX reminder_message_comune_idx ON reminder_message (comune, created_at);
CREATE INDEX reminder_message_created_idx ON reminder_message (created_at);
CREATE INDEX reminder_message_user_idx ON reminder_message (user_id);

-- The kinds of reminder a person turned off on their profile page (none: every kind of their role).
CREATE TABLE reminder_optout (
    user_id  INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('scadenza', 'ritardo', 'settimanale', 'mensile')),
    PRIMARY KEY (user_id, kind)
);
