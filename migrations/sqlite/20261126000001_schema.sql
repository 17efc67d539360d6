-- Traguardi schema (SQLite). The PostgreSQL twin lives in ../postgres with the same tables,
-- columns and constraint names; only types differ (DATE/BOOLEAN/BIGINT there).
-- Dates are ISO text (YYYY-MM-DD), which sorts and compares correctly.

CREATE TABLE province (
    sigla           TEXT PRIMARY KEY,
    codice_istat    TEXT NOT NULL UNIQUE,
    nome            TEXT NOT NULL
);

-- The ISTAT registry. codice_istat keeps its leading zeros.
CREATE TABLE comune (
    codice_istat     TEXT PRIMARY KEY CHECK (length(codice_istat) = 6),
    denominazione    TEXT NOT NULL,
    sigla_provincia  TEXT NOT NULL REFERENCES province (sigla),
    codice_catastale TEXT NOT NULL UNIQUE,
    codice_ipa       TEXT NOT NULL,
    popolazione      INTEGER NOT NULL CHECK (popolazione >= 0),
    capoluogo        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX comune_provincia_idx ON comune (sigla_provincia);

-- A programme and its rules as data: a second programme is rows, not code.
CREATE TABLE programme (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT NOT NULL
);

CREATE TABLE programme_step (
    programme      TEXT NOT NULL REFERENCES programme (code),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    step_order     INTEGER NOT NULL,
    deadline       TEXT NOT NULL,
    share_percent  INTEGER NOT NULL CHECK (share_percent BETWEEN 0 AND 100),
    PRIMARY KEY (programme, code)
);

-- min inclusive, max exclusive (NULL = no upper bound)
CREATE TABLE funding_band (
    programme       TEXT NOT NULL REFERENCES programme (code),
    min_population  INTEGER NOT NULL,
    max_population  INTEGER,
    amount_eur      INTEGER NOT NULL CHECK (amount_eur >= 0),
    PRIMARY KEY (programme, min_population)
);

CREATE TABLE objective (
    programme                  TEXT NOT NULL REFERENCES programme (code),
    code                       TEXT NOT NULL,
    step                       TEXT NOT NULL,
    platform                   TEXT NOT NULL CHECK (platform IN ('pagopa', 'io', 'spid_cie')),
    rule                       TEXT NOT NULL CHECK (rule IN ('min_servizi', 'quota_servizi_applicabili', 'tutti_servizi_spid_cie')),
    threshold                  INTEGER NOT NULL,
    threshold_if_already_on    INTEGER,
    new_since                  TEXT,
    requires_platform_adhesion BOOLEAN NOT NULL,
    deadline                   TEXT NOT NULL,
    description                TEXT NOT NULL,
    confirmed_by_source        BOOLEAN NOT NULL,
    display_order              INTEGER NOT NULL,
    PRIMARY KEY (programme, code),
    FOREIGN KEY (programme, step) REFERENCES programme_step (programme, code)
);

-- A missing row means non_aderente.
CREATE TABLE adhesion (
    programme      TEXT NOT NULL REFERENCES programme (code),
    comune         TEXT NOT NULL REFERENCES comune (codice_istat),
    status         TEXT NOT NULL CHECK (status IN ('aderente', 'aderente_in_ritardo', 'non_aderente', 'rinuncia')),
    adhesion_date  TEXT,
    PRIMARY KEY (programme, comune)
);
CREATE INDEX adhesion_status_idx ON adhesion (programme, status);

-- A comune on a national platform (pagoPA, App IO), independent of any programme.
CREATE TABLE platform_membership (
    comune      TEXT NOT NULL REFERENCES comune (codice_istat),
    platform    TEXT NOT NULL CHECK (platform IN ('pagopa', 'io')),
    joined_on   TEXT NOT NULL,
    via_region  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (comune, platform)
);

-- The pagoPA "Tassonomia dei servizi di incasso". origin: 'ufficiale' (imported official list),
-- 'nota' (a real code quoted by the fund's documents), 'demo' (made up for the demo dataset).
CREATE TABLE taxonomy_entry (
    code         TEXT PRIMARY KEY CONSTRAINT taxonomy_entry_code_shape
                 CHECK (code GLOB '9/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][A-Z][A-Z]/'),
    description  TEXT NOT NULL,
    origin       TEXT NOT NULL CHECK (origin IN ('ufficiale', 'nota', 'demo')),
    valid_from   TEXT,
    valid_to     TEXT
);

CREATE TABLE pagopa_service (
    id              INTEGER PRIMARY KEY,
    comune          TEXT NOT NULL REFERENCES comune (codice_istat),
    taxonomy_code   TEXT NOT NULL REFERENCES taxonomy_entry (code),
    applicable      BOOLEAN NOT NULL,
    active_since    TEXT,
    deactivated_on  TEXT,
    on_mypay        BOOLEAN NOT NULL,
    CONSTRAINT pagopa_service_comune_code_key UNIQUE (comune, taxonomy_code)
);

CREATE TABLE io_service (
    id               INTEGER PRIMARY KEY,
    comune           TEXT NOT NULL REFERENCES comune (codice_istat),
    service_id       TEXT NOT NULL,
    name             TEXT NOT NULL,
    published_since  TEXT,
    withdrawn_on     TEXT,
    CONSTRAINT io_service_comune_service_key UNIQUE (comune, service_id)
);

CREATE TABLE online_service (
    id          INTEGER PRIMARY KEY,
    comune      TEXT NOT NULL REFERENCES comune (codice_istat),
    name        TEXT NOT NULL,
    spid_since  TEXT,
    cie_since   TEXT
);
CREATE INDEX online_service_comune_idx ON online_service (comune);

-- Counts of active services per comune, platform and day, for the time charts.
CREATE TABLE service_count (
    comune    TEXT NOT NULL REFERENCES comune (codice_istat),
    platform  TEXT NOT NULL CHECK (platform IN ('pagopa', 'io', 'spid_cie')),
    day       TEXT NOT NULL,
    active    INTEGER NOT NULL CHECK (active >= 0),
    PRIMARY KEY (comune, platform, day)
);

-- Key/value facts about the database itself (e.g. dataset = 'demo').
CREATE TABLE app_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
