-- PA digitale 2026 (PNRR, Missione 1: measures 1.4.3 pagoPA and App IO, 1.4.4 SPID/CIE): a second
-- programme on the same registry. Its projects come from the published candidature files
-- (teamdigitale/padigitale2026-opendata, CC BY 4.0), imported through /importazioni.
-- status: the file's stato_candidatura, A (finanziata), R (rinuncia), E (erogata).
-- amount_cents: importo_finanziamento in euro cents (the file writes 16389.0).
INSERT INTO programme (code, name, start_date, end_date) VALUES
    ('padigitale2026', 'PA digitale 2026 (PNRR)', '2022-04-01', '2026-06-30');

CREATE TABLE pnrr_project (
    programme     TEXT NOT NULL REFERENCES programme (code),
    cup           TEXT NOT NULL CHECK (length(cup) = 15),
    comune        TEXT NOT NULL REFERENCES comune (codice_istat),
    misura        TEXT NOT NULL,
    avviso        TEXT NOT NULL,
    amount_cents  BIGINT NOT NULL CHECK (amount_cents >= 0),
    status        TEXT NOT NULL CHECK (status IN ('A', 'R', 'E')),
    submitted_on  DATE,
    financed_on   DATE,
    status_on     DATE,
    decree        TEXT,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (programme, cup)
);
CREATE INDEX pnrr_project_comune_idx ON pnrr_project (comune, programme);
