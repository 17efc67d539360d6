-- Messages sent with the feedback form (`/feedback`), read by the Region on `/feedback/ricevuti`
-- (SQLite twin of ../postgres). Times are Unix seconds. No IP address, no session, no account:
-- only what the person typed, the page it came from and when.
CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    -- The path of the page the form was opened from ('' when unknown).
    page        TEXT NOT NULL DEFAULT '' CHECK (length(page) <= 300),
    -- "Cosa stavi cercando di fare?" (optional).
    task        TEXT CHECK (length(task) <= 200),
    rating      INTEGER CHECK (rating BETWEEN 1 AND 5),
    message     TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    -- For a reply, when the person wants one.
    email       TEXT CHECK (length(email) <= 254)
);
CREATE INDEX feedback_created_idx ON feedback (created_at);
