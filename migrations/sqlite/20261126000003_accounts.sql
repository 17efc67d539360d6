-- People, their roles and their server-side sessions (SQLite twin of ../postgres).
-- Times are Unix seconds (INTEGER) in both backends: compared in SQL, never formatted there.

-- A person who may sign in. Roles live here, never in the identity provider's claims.
CREATE TABLE app_user (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name           TEXT NOT NULL CHECK (length(name) > 0),
    role           TEXT NOT NULL CHECK (role IN ('regione', 'comune', 'assessore')),
    -- Italian fiscal code (16 characters, upper case), matched against the IAM's claim.
    fiscal_code    TEXT UNIQUE,
    -- PHC string of an argon2id hash; NULL = no local password (OIDC only).
    password_hash  TEXT,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Demo accounts only sign in to a database that holds the demo dataset.
    demo           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL,
    disabled_at    INTEGER
);

-- The comuni a `comune` user operates for (a consultant may serve several).
CREATE TABLE user_comune (
    user_id       INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    codice_istat  TEXT NOT NULL REFERENCES comune (codice_istat),
    PRIMARY KEY (user_id, codice_istat)
);
CREATE INDEX user_comune_comune_idx ON user_comune (codice_istat);

-- A signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
-- copy of the database does not hand out sessions.
CREATE TABLE user_session (
    token_hash     TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    -- 'password' or 'oidc'
    method         TEXT NOT NULL CHECK (method IN ('password', 'oidc')),
    -- The ID token, kept for RP-initiated logout (id_token_hint).
    id_token       TEXT
);
CREATE INDEX user_session_user_idx ON user_session (user_id);
CREATE INDEX user_session_seen_idx ON user_session (last_seen_at);

-- An OIDC sign-in under way: state (hashed), PKCE verifier and nonce until the callback.
-- `binding_hash` ties it to the browser that started it (a cookie), against login CSRF.
CREATE TABLE oidc_login (
    state_hash     TEXT PRIMARY KEY,
    binding_hash   TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX oidc_login_created_idx ON oidc_login (created_at);
