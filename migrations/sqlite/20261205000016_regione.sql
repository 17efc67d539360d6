-- Italy's regions in the registry, and each province's region (issue 19; the twin of
-- ../postgres). Public, like the rest of the ISTAT registry: codes and names as ISTAT publishes
-- them. Every start upserts the 20 regions from the embedded national list and fills
-- `codice_regione` of the provinces it loads; a row loaded before this migration gets its region
-- at the next start, hence the column may be NULL until then.
CREATE TABLE regione (
    codice_istat  TEXT PRIMARY KEY CHECK (length(codice_istat) = 2),
    nome          TEXT NOT NULL
);

ALTER TABLE province ADD COLUMN codice_regione TEXT REFERENCES regione (codice_istat);
CREATE INDEX province_regione_idx ON province (codice_regione);
