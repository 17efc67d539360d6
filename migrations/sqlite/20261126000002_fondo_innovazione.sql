-- The Fondo Innovazione 2020-21 as data (shared/docs/domain.md §1, §1.1, §2).
-- Identical in ../postgres: keep the two files byte-for-byte the same.

INSERT INTO programme (code, name, start_date, end_date) VALUES
    ('fondo-innovazione-2020', 'Fondo Innovazione 2020-2021', '2020-12-15', '2021-12-31');

-- Tranches: 20% for the objectives verified at 28/02/2021, 80% (saldo) at 31/12/2021.
INSERT INTO programme_step (programme, code, name, step_order, deadline, share_percent) VALUES
    ('fondo-innovazione-2020', 'primo_step', 'Primo step', 1, '2021-02-28', 20),
    ('fondo-innovazione-2020', 'finale', 'Obiettivi finali', 2, '2021-12-31', 80);

-- Grant by resident population. The avviso gives "<5,000; 5,000-40,000; 40,000-200,000;
-- >200,000" without saying where the boundaries fall: we read every boundary as the first
-- inhabitant of the higher band (min inclusive, max exclusive).
INSERT INTO funding_band (programme, min_population, max_population, amount_eur) VALUES
    ('fondo-innovazione-2020', 0, 5000, 3900),
    ('fondo-innovazione-2020', 5000, 40000, 7950),
    ('fondo-innovazione-2020', 40000, 200000, 11850),
    ('fondo-innovazione-2020', 200000, NULL, 50000);

INSERT INTO objective (programme, code, step, platform, rule, threshold, threshold_if_already_on, new_since,
                       requires_platform_adhesion, deadline, description, confirmed_by_source, display_order) VALUES
    ('fondo-innovazione-2020', 'step1_pagopa', 'primo_step', 'pagopa', 'min_servizi', 1, 2, '2020-12-15', TRUE,
     '2021-02-28', 'Adesione a pagoPA e almeno 1 servizio di incasso attivo (almeno 2 servizi nuovi se il Comune era già su pagoPA prima del 15/12/2020)', TRUE, 1),
    ('fondo-innovazione-2020', 'step1_io', 'primo_step', 'io', 'min_servizi', 1, NULL, NULL, TRUE,
     '2021-02-28', 'Adesione ad App IO e almeno 1 servizio pubblicato', TRUE, 2),
    ('fondo-innovazione-2020', 'step1_spid', 'primo_step', 'spid_cie', 'min_servizi', 1, NULL, NULL, FALSE,
     '2021-02-28', 'Almeno 1 servizio online accessibile con SPID', TRUE, 3),
    ('fondo-innovazione-2020', 'final_pagopa', 'finale', 'pagopa', 'quota_servizi_applicabili', 70, NULL, NULL, TRUE,
     '2021-12-31', 'Almeno il 70% dei servizi di incasso applicabili al Comune attivi su pagoPA ("full pagoPA")', TRUE, 4),
    ('fondo-innovazione-2020', 'final_io', 'finale', 'io', 'min_servizi', 10, NULL, NULL, TRUE,
     '2021-12-31', 'Almeno 10 servizi pubblicati su App IO ("full IO")', TRUE, 5),
    ('fondo-innovazione-2020', 'final_spid_cie', 'finale', 'spid_cie', 'tutti_servizi_spid_cie', 100, NULL, NULL, FALSE,
     '2021-12-31', 'Tutti i servizi online accessibili con SPID e con CIE (regola non confermata da una fonte primaria)', FALSE, 6);

-- The three taxonomy codes the fund's documents quote, plus two they cite as typically not
-- applicable. Origin 'nota': real codes, not yet checked against the official list.
INSERT INTO taxonomy_entry (code, description, origin, valid_from, valid_to) VALUES
    ('9/0101100IM/', 'IMU - Imposta municipale propria', 'nota', NULL, NULL),
    ('9/0101101IM/', 'TARI - Tassa sui rifiuti', 'nota', NULL, NULL),
    ('9/0101105IM/', 'Imposta di soggiorno', 'nota', NULL, NULL),
    ('9/0102100SA/', 'Sanzioni al Codice della strada (multe)', 'nota', NULL, NULL),
    ('9/0115116SP/', 'Eliski', 'nota', NULL, NULL);
