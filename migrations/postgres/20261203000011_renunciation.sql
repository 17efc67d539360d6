-- Renunciation (issue 16). A supported comune may renounce the saldo (the final tranche) by a
-- programme's limit, or its whole grant on any day. The renunciation is a dated fact beside the
-- adhesion, not an adhesion status: the comune stays `aderente` (or `aderente_in_ritardo`), so
-- what it reached by each deadline still counts; only the euros follow the renunciation.
-- The older status `rinuncia` keeps its meaning: the comune withdrew its adhesion.

-- The last day a step's tranche may be renounced alone; NULL = only with the whole grant.
ALTER TABLE programme_step ADD COLUMN renounce_by DATE;

-- Fondo Innovazione: the saldo (80%) could be renounced by 26/05/2022 (the Region's letter to
-- the mayors, https://regione.puglia.it/web/trasformazione-digitale/-/comunicazione-per-i-comuni).
UPDATE programme_step SET renounce_by = '2022-05-26'
 WHERE programme = 'fondo-innovazione-2020' AND code = 'finale';

-- 'saldo' or 'contributo' (the whole grant), with the day it was made; both or neither.
ALTER TABLE adhesion
    ADD COLUMN renunciation TEXT CHECK (renunciation IN ('saldo', 'contributo')),
    ADD COLUMN renunciation_date DATE,
    ADD CONSTRAINT adhesion_renunciation_dated CHECK ((renunciation_date IS NULL) = (renunciation IS NULL));
