-- Sign-in rate limits kept in the database, so that several server processes on one database
-- share them (issue 19; the twin of ../postgres). One row per limited key: `limit_key` is the
-- SHA-256 (hex) of the client address, or of the account and address together (no e-mail address
-- or IP address is stored in clear); `tat_ms` is the GCRA's theoretical arrival time in Unix
-- milliseconds (see `auth::limit`); `allowed` says whether the last attempt was let through.
-- Private: read by no page and no export; a row whose time has passed limits nothing and leaves
-- at the next sweep.
CREATE TABLE sign_in_limit (
    limit_key  TEXT PRIMARY KEY,
    tat_ms     BIGINT NOT NULL,
    allowed    BOOLEAN NOT NULL
);
